import fc from 'fast-check';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { silentLogger } from '../../../runtime/log.js';
import { MALFORMED_DRAIN_PER_VALID, MALFORMED_LIMIT } from '../../../protocol/frames.js';
import { PATHS, type Role } from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';
import { RawPeer, signIn } from './peer.js';

/**
 * Fuzzing the market's two endpoints with generated malformed messages (fast-check, seeded):
 * random text, random JSON, binary frames and valid messages with one field broken. The market
 * never crashes; each malformed message gets an error reply; a connection is only ever closed as
 * specified (1008 once malformed messages outweigh valid ones past MALFORMED_LIMIT, or a refused sign-in, 1002 for a
 * version it does not speak). OFFSHIFT_FUZZ_SEED replays a run.
 */
const seed = Number(process.env.OFFSHIFT_FUZZ_SEED ?? Date.now() % 2 ** 31);
const PER_ROLE = 5_000;
const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const IMAGE = 'sha256:' + 'ef'.repeat(32);
const sig = '0x' + '11'.repeat(65);
const addr = '0x' + '22'.repeat(20);

const voucher = { voucher: { buyer: addr, provider: addr, jobId: '0x' + '33'.repeat(32), cumulativeAmount: '1', expiry: 1 }, signature: sig };
const report = { jobId: 'jx', seq: 1, usageSeconds: 1, amountDue: '1', at: 1, final: false, provider: addr, signature: sig };
const templates: Record<Role, Record<string, unknown>[]> = {
  provider: [
    { type: 'hello', versions: [1], role: 'provider', agent: 'f' },
    { type: 'sign-in', message: 'x', signature: sig },
    { type: 'advertise', ad: makeAd({ chainId, escrow }) },
    { type: 'offer-reply', offerId: 'oAAAAAAAAAA', accept: true, reason: null, detail: '' },
    { type: 'job-started', jobId: 'jx' },
    { type: 'job-paused', jobId: 'jx', paused: true, detail: '' },
    { type: 'usage', report },
    { type: 'output', chunk: { jobId: 'jx', path: 'a.png', index: 0, last: true, sha256: null, data: 'AAAA' } },
    { type: 'job-ended', end: { jobId: 'jx', state: 'succeeded', reason: 'ok', detail: '', usageSeconds: 1, exitCode: 0 } },
    { type: 'resume', jobs: [{ jobId: 'jx', usageSeconds: 1 }] },
  ],
  buyer: [
    { type: 'hello', versions: [1], role: 'buyer', agent: 'f' },
    { type: 'sign-in', message: 'x', signature: sig },
    { type: 'submit', ref: 'r', job: { image: IMAGE, command: ['x'], pricePerHour: '1' } },
    { type: 'voucher', jobId: 'jx', signed: voucher },
    { type: 'cancel', jobId: 'jx' },
    { type: 'attach', jobIds: ['jx'] },
  ],
};

type Frame = { text: string } | { binary: Uint8Array };

/** A value put somewhere in a message: anything JSON can carry, and the edge cases. */
const weird = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(null, -1, 1e308, -0, 2 ** 53, '', 'x'.repeat(5000), '../../etc/passwd', '__proto__', { __proto__: { polluted: true } }, [], {}, true),
);

/** Sets, deletes or adds one key somewhere in a copy of the template. */
function mutate(template: Record<string, unknown>, pathBits: number[], action: number, value: unknown, key: string): unknown {
  // An array's `length` cannot take any value (a RangeError of the generator, not of the market).
  const extraKey = key === 'length' ? 'extra' : key;
  const copy = JSON.parse(JSON.stringify(template)) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const bit of pathBits) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[bit % keys.length]!;
    const child = node[key];
    if (child === null || typeof child !== 'object') {
      if (action % 3 === 0) delete node[key];
      else if (action % 3 === 1) node[key] = value;
      else node[extraKey || 'extra'] = value;
      return copy;
    }
    node = child as Record<string, unknown>;
  }
  node[extraKey || 'extra'] = value;
  return copy;
}

function frames(role: Role): fc.Arbitrary<Frame> {
  const near = fc
    .tuple(fc.constantFrom(...templates[role]), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.nat(), weird, fc.string({ maxLength: 12 }))
    .map(([t, bits, action, value, key]) => ({ text: JSON.stringify(mutate(t, bits, action, value, key)) ?? 'null' }));
  const otherType = fc.tuple(fc.constantFrom(...templates[role === 'buyer' ? 'provider' : 'buyer']), fc.string({ maxLength: 8 })).map(([t, s]) => ({ text: JSON.stringify(s ? { ...t, type: s } : t) }));
  return fc.oneof(
    { weight: 5, arbitrary: near },
    { weight: 1, arbitrary: otherType },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text })) },
    { weight: 2, arbitrary: fc.string({ maxLength: 300, unit: 'binary' }).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '{"type":', '1e309', '"\\ud800"', '{"type":"hello","versions":[1e400]}').map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((binary) => ({ binary })) },
  );
}

function sendFrame(peer: RawPeer, f: Frame): void {
  if ('binary' in f) peer.ws.send(f.binary, { binary: true });
  else peer.ws.send(f.text);
}

describe(`market fuzz (seed ${seed})`, () => {
  let m: RunningMarket;
  /** What the market logged as its own failure while handling a message: none is expected. */
  const failures: string[] = [];
  beforeAll(async () => {
    const log = { ...silentLogger, error: (msg: string, fields?: Record<string, unknown>) => failures.push(`${msg} ${JSON.stringify(fields)} ${String((fields?.error as Error)?.stack)}`) };
    m = await startMarket({ chainId, escrow, offerTtlMs: 200, log });
  });
  afterAll(() => m.close());

  const explain = (what: string) => `${what} — replay with OFFSHIFT_FUZZ_SEED=${seed}`;

  for (const role of ['provider', 'buyer'] as const) {
    it(`survives ${PER_ROLE} generated malformed messages on ${PATHS[role]}, signed in`, { timeout: 60_000 }, async () => {
      const generated = fc.sample(frames(role), { numRuns: PER_ROLE, seed: seed + (role === 'buyer' ? 1 : 0) });
      const { peer, reply } = await signIn(m.url, role, Wallet.createRandom() as unknown as Wallet);
      expect(reply.type).toBe('welcome');
      // Valid messages that drain the malformed count (a valid message takes MALFORMED_DRAIN_PER_VALID off), then
      // one that gets an answer and tells us the batch was handled.
      const quiet = role === 'provider' ? { type: 'advertise', ad: makeAd({ chainId, escrow }, { availability: { state: 'paused', reason: 'fuzz' } }) } : { type: 'attach', jobIds: [] };
      const sync = (n: number) =>
        role === 'provider' ? { type: 'resume', jobs: [] } : { type: 'submit', ref: `sync${n}`, job: { image: IMAGE, command: ['x'], gpus: 0, pricePerHour: '1' } };
      const batch = MALFORMED_LIMIT - 1;
      for (let i = 0, n = 0; i < generated.length; i += batch, n++) {
        for (const f of generated.slice(i, i + batch)) sendFrame(peer, f);
        for (let k = 0; k < Math.ceil(batch / MALFORMED_DRAIN_PER_VALID); k++) peer.send(quiet);
        peer.send(sync(n));
        try {
          await peer.next((x) => (role === 'provider' ? x.type === 'resumed' : x.type === 'submitted' && x.ref === `sync${n}`), 10_000);
        } catch (error) {
          throw new Error(explain(`batch at ${i} (${JSON.stringify(generated.slice(i, i + batch)).slice(0, 400)}): ${(error as Error).message}; closed: ${JSON.stringify(peer.closed)}`), { cause: error });
        }
        expect(peer.closed, explain(`closed after batch at ${i}`)).toBeNull();
        // Keep the inbox small: every error names a code.
        for (const x of peer.inbox.splice(0)) if (x.type === 'error') expect(typeof x.code).toBe('string');
      }
      peer.close();
    });

    it(`closes only as specified when ${PATHS[role]} gets garbage before signing in`, { timeout: 60_000 }, async () => {
      const generated = fc.sample(frames(role), { numRuns: 1000, seed: seed + 7 + (role === 'buyer' ? 1 : 0) });
      let peer = await RawPeer.open(m.url + PATHS[role]);
      let closes = 0;
      const batch = MALFORMED_LIMIT + 5;
      for (let i = 0; i < generated.length; i += batch) {
        for (const f of generated.slice(i, i + batch)) sendFrame(peer, f);
        const closed = await peer.waitClose(1000).catch(() => null);
        if (!closed) continue;
        expect([1008, 1002], explain(`close code ${closed.code} (${closed.reason})`)).toContain(closed.code);
        for (const x of peer.inbox) if (x.type !== 'challenge') expect(x.type).toBe('error');
        closes += 1;
        peer = await RawPeer.open(m.url + PATHS[role]);
      }
      peer.close();
      expect(closes).toBeGreaterThan(0);
    });
  }

  it('is still whole after the fuzzing: sign-in works, the views answer, no handler failed', async () => {
    expect(failures, explain('market handler failures')).toEqual([]);
    const { peer, reply } = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    expect(reply.type).toBe('welcome');
    peer.close();
    const res = await fetch(`http://127.0.0.1:${m.port}${PATHS.providers}`);
    expect(res.status).toBe(200);
  });
});
