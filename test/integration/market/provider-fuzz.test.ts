/**
 * The provider's side of the protocol under a hostile market: a real agent signs in to a market
 * of ours that then sends 10,000 generated messages, half of them well-formed with hostile
 * values (offers for any chain, forged vouchers, cancels and confirmations for unknown jobs),
 * half malformed (random JSON, wrong types, truncated text, binary frames). The agent must not
 * crash, must close the connection (1008) exactly when malformed messages outweigh the valid ones
 * (MalformedCounter: 20 in a row, or fewer among too few valid ones), and
 * must sign in again and go on.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { silentLogger } from '../../../runtime/log.js';
import { MalformedCounter } from '../../../protocol/frames.js';
import { MAX_MESSAGE_BYTES, toProviderMessageSchema } from '../../../protocol/index.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const TOTAL = 10_000;
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const address = hex(40).map((h) => `0x${h}`);
const jobId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);

const wellFormed = fc.oneof(
  fc.record({
    type: fc.constant('offer'),
    offer: fc.record({
      offerId: fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/),
      jobId,
      job: fc.record({
        image: hex(64).map((h) => `sha256:${h}`),
        command: fc.array(fc.string({ maxLength: 50 }), { minLength: 1, maxLength: 4 }),
        gpus: fc.integer({ min: 0, max: 16 }),
        cpus: fc.integer({ min: 1, max: 256 }),
        memoryMiB: fc.integer({ min: 6, max: 1 << 20 }),
        pricePerHour: fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
        reportIntervalSeconds: fc.integer({ min: 5, max: 300 }),
        maxDurationSeconds: fc.integer({ min: 1, max: 30 * 86_400 }),
      }),
      buyer: address,
      chainId: fc.integer({ min: 1, max: 2 ** 31 }),
      escrow: address,
      expiresAt: fc.integer({ min: 0, max: 2 ** 45 }),
    }),
  }),
  fc.record({ type: fc.constant('voucher'), jobId, signed: fc.record({ voucher: fc.record({ buyer: address, provider: address, jobId: hex(64).map((h) => `0x${h}`), cumulativeAmount: fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String), expiry: fc.integer({ min: 0, max: 2 ** 40 }) }), signature: hex(130).map((h) => `0x${h}`) }) }),
  fc.record({ type: fc.constant('cancel'), jobId, reason: fc.string({ maxLength: 64 }), detail: fc.string({ maxLength: 200 }) }),
  fc.record({ type: fc.constant('job-confirmed'), jobId, offerId: fc.string({ maxLength: 64 }) }),
  fc.record({ type: fc.constant('offer-withdrawn'), offerId: fc.string({ maxLength: 64 }), reason: fc.string({ maxLength: 64 }) }),
  fc.record({ type: fc.constant('resumed'), jobs: fc.array(fc.record({ jobId, known: fc.boolean() }), { maxLength: 5 }) }),
  fc.record({ type: fc.constant('error'), code: fc.string({ maxLength: 64 }), message: fc.string({ maxLength: 300 }) }),
);

const malformedSmall = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 300 }),
  fc.anything({ maxDepth: 3 }).map((v) => { try { return JSON.stringify(v) ?? 'undefined'; } catch { return '"x"'; } }),
  wellFormed.map((m) => JSON.stringify(m).slice(0, -3)),
  wellFormed.map((m) => JSON.stringify({ ...m, extra: { __proto__: { polluted: true } }, constructor: 1 })),
  fc.record({ type: fc.constantFrom('offer', 'voucher', 'cancel', 'welcome'), offer: fc.anything({ maxDepth: 2 }) }).map((m) => JSON.stringify(m)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);
// A frame past the size limit closes the connection: rare, so that the rest gets through.
const malformed = fc.oneof({ arbitrary: fc.constant('x'.repeat(600 * 1024)) as fc.Arbitrary<string | Buffer>, weight: 1 }, { arbitrary: malformedSmall, weight: 40 });

type Frame = string | Buffer;
const frames = fc.array(fc.oneof({ arbitrary: wellFormed.map((m) => JSON.stringify(m) as Frame), weight: 1 }, { arbitrary: malformed.map((m) => m as Frame), weight: 1 }), { minLength: TOTAL, maxLength: TOTAL });

function isMalformed(frame: Frame): boolean {
  if (Buffer.isBuffer(frame)) return true;
  if (frame.length > 512 * 1024) return true;
  try {
    return !toProviderMessageSchema.safeParse(JSON.parse(frame)).success;
  } catch {
    return true;
  }
}

describe('the provider under a hostile market', () => {
  let agent: Agent;
  let server: WebSocketServer;
  let temp: ReturnType<typeof makeTempHome>;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  const sockets: WebSocket[] = [];
  let signIns = 0;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/provider' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    server.on('connection', (ws, req) => {
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string };
        if (m.type === 'hello') {
          const now = Date.now();
          ws.send(JSON.stringify({ type: 'challenge', version: 1, nonce: `n${now}abcdefghijklmnop`, domain: req.headers.host, uri: `ws://${req.headers.host}/v1/provider`, chainId: 31337, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString() }));
        } else if (m.type === 'sign-in') {
          signIns += 1;
          ws.send(JSON.stringify({ type: 'welcome', address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', session: 's', chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }));
          sockets.push(ws);
        }
      });
    });
    temp = makeTempHome('offshift-provider-fuzz-');
    agent = createAgent({ home: temp.home, log: silentLogger, env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' }, idleSource: null, market: { enabled: true, demo: false, backoff: { minMs: 50, maxMs: 200 } } });
    await agent.client().call('wallet.create', { password: 'fuzz fuzz fuzz' });
    // A network whose RPC is not there: chain reads fail, as they may in life.
    fs.writeFileSync(
      path.join(temp.home, 'devnet.json'),
      JSON.stringify({ rpcUrl: 'http://127.0.0.1:9', chainId: 31337, port: 9, pid: null, token: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512', escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3', fromBlock: 0, buyer: { address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', privateKey: `0x${'1'.repeat(64)}` } }),
    );
    agent.schedule.settings.update('market', { url: `ws://127.0.0.1:${port}` });
    await agent.start();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => server?.close(r));
    temp?.cleanup();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  });

  async function connected(): Promise<WebSocket> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const ws = sockets[sockets.length - 1];
      if (ws && ws.readyState === ws.OPEN) return ws;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the agent did not sign in again');
  }

  it(`survives ${TOTAL} generated messages, closing exactly when malformed messages outweigh the valid ones (MalformedCounter) or on one oversized frame (seed ${SEED})`, async () => {
    const [sample] = fc.sample(frames, { seed: SEED, numRuns: 1 });
    let counter = new MalformedCounter();
    let closes = 0;
    let ws = await connected();
    for (let i = 0; i < sample!.length; i++) {
      const frame = sample![i]!;
      const bad = isMalformed(frame);
      ws.send(frame, { binary: Buffer.isBuffer(frame) });
      const tooMany = counter.record(bad);
      const oversized = !Buffer.isBuffer(frame) && frame.length > MAX_MESSAGE_BYTES;
      if (oversized) {
        // Past the frame limit the WebSocket layer itself closes with 1009 (message too big).
        const code = await new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`seed ${SEED}: no close after an oversized frame (message ${i})`)), 5000);
          ws.once('close', (c) => (clearTimeout(t), resolve(c)));
        });
        expect(code, `seed ${SEED}`).toBe(1009);
        closes += 1;
        counter = new MalformedCounter();
        ws = await connected();
      } else if (tooMany) {
        const code = await new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`seed ${SEED}: no close after too many malformed messages (message ${i})`)), 5000);
          ws.once('close', (c) => (clearTimeout(t), resolve(c)));
        });
        expect(code, `seed ${SEED}`).toBe(1008);
        closes += 1;
        counter = new MalformedCounter();
        ws = await connected();
      } else if (i % 200 === 0) {
        // Let the agent keep up, and check it never closed early.
        await new Promise((r) => setTimeout(r, 5));
        expect(ws.readyState, `seed ${SEED}: closed early at message ${i}`).toBe(ws.OPEN);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(unhandled, `seed ${SEED}`).toEqual([]);
    expect(signIns).toBe(closes + 1);
    const status = await agent.client().call('market.status', {});
    expect(status.state).toBe('connected');
    expect(status.offers.length).toBeGreaterThan(0);
    expect(status.offers.every((o) => !o.accepted || o.reason === null)).toBe(true);
  }, 240_000);
});
