import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { amountForSeconds, marketJobViewSchema, marketProviderViewSchema, PATHS } from '../../../protocol/index.js';
import { recoverVoucherSigner } from '../../../runtime/wallet/voucher.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { RawPeer, signIn, TestProvider, type Msg } from './peer.js';

/** The reference market with real WebSocket clients, real keys and a real SQLite file. No chain is needed: signing needs none. */
const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ctx = { chainId, escrow };
const IMAGE = 'sha256:' + 'ab'.repeat(32);
const PRICE = '1000000000000000000'; // 1 token per hour
const buyerKey = Wallet.createRandom();

const job = (over: Record<string, unknown> = {}) => ({ image: IMAGE, command: ['render'], gpus: 1, pricePerHour: PRICE, reportIntervalSeconds: 5, ...over });

describe('market: sign-in and version', () => {
  let m: RunningMarket;
  beforeAll(async () => {
    m = await startMarket({ chainId, escrow });
  });
  afterAll(() => m.close());

  it('signs in a provider and a buyer with their wallets', async () => {
    const w = Wallet.createRandom();
    const p = await signIn(m.url, 'provider', w as unknown as Wallet);
    expect(p.reply).toMatchObject({ type: 'welcome', address: w.address, chainId, escrow });
    expect(p.challenge).toMatchObject({ domain: `127.0.0.1:${m.port}`, uri: `${m.url}${PATHS.provider}`, chainId });
    const b = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
    expect(b.reply).toMatchObject({ type: 'welcome', address: buyerKey.address });
    p.peer.close();
    b.peer.close();
  });

  it('refuses a forged signature, a wrong domain, a wrong chain and a wrong role, and closes', async () => {
    const w = Wallet.createRandom() as unknown as Wallet;
    const cases: { tamper: Parameters<typeof signIn>[3]; why: RegExp }[] = [
      { tamper: { signWith: Wallet.createRandom() as unknown as Wallet }, why: /not 0x/ },
      { tamper: { fields: (f) => ({ ...f, domain: 'evil.example' }) }, why: /domain/ },
      { tamper: { fields: (f) => ({ ...f, chainId: 1 }) }, why: /chain 1/ },
      { tamper: { fields: (f) => ({ ...f, role: 'buyer' }) }, why: /buyer/ },
      { tamper: { message: (t: string) => t.replace('Version: 1', 'Version: 2') }, why: /EIP-4361/ },
    ];
    for (const c of cases) {
      const { peer, reply } = await signIn(m.url, 'provider', w, c.tamper);
      expect(reply).toMatchObject({ type: 'error', code: 'sign-in-refused' });
      expect(reply.message).toMatch(c.why);
      expect((await peer.waitClose()).code).toBe(1008);
    }
    expect((await fetch(`http://127.0.0.1:${m.port}${PATHS.providers}`).then((r) => r.json())) as unknown[]).toEqual([]);
  });

  it('refuses a reused nonce', async () => {
    const w = Wallet.createRandom();
    const first = await RawPeer.open(m.url + PATHS.provider);
    first.send({ type: 'hello', versions: [1], role: 'provider', agent: 't' });
    const ch = await first.next('challenge');
    const { signInMessage } = await import('../../../protocol/index.js');
    const text = signInMessage({ domain: ch.domain as string, address: w.address, uri: ch.uri as string, chainId, nonce: ch.nonce as string, issuedAt: ch.issuedAt as string, expirationTime: ch.expiresAt as string, role: 'provider' });
    const captured = { message: text, signature: await w.signMessage(text) };
    first.send({ type: 'sign-in', ...captured });
    expect(await first.next()).toMatchObject({ type: 'welcome' });
    // The same signed message on a second connection, and again on the first.
    const second = await RawPeer.open(m.url + PATHS.provider);
    second.send({ type: 'hello', versions: [1], role: 'provider', agent: 't' });
    await second.next('challenge');
    second.send({ type: 'sign-in', ...captured });
    const refused = await second.next();
    expect(refused).toMatchObject({ type: 'error', code: 'sign-in-refused' });
    expect(refused.message).toMatch(/already used/);
    expect((await second.waitClose()).code).toBe(1008);
    first.send({ type: 'sign-in', ...captured });
    expect(await first.next()).toMatchObject({ type: 'error', code: 'already-signed-in' });
    first.close();
  });

  it('refuses an unsupported version, naming the ones it speaks', async () => {
    const peer = await RawPeer.open(m.url + PATHS.buyer);
    peer.send({ type: 'hello', versions: [4, 5], role: 'buyer', agent: 't' });
    const e = await peer.next();
    expect(e).toMatchObject({ type: 'error', code: 'unsupported-version' });
    expect(e.message).toMatch(/versions 1, 2, 3\b/);
    await peer.waitClose();
  });

  it('answers malformed messages with an error, and closes after too many in a row', async () => {
    const peer = await RawPeer.open(m.url + PATHS.provider);
    peer.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'binary-frame' });
    peer.send('{not json');
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'not-json' });
    peer.send({ type: 'advertise' });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'invalid-message' });
    // A good hello takes half a count off (3 → 2.5): it does not reset it, so the 18th malformed message after it closes (20.5).
    peer.send({ type: 'hello', versions: [1], role: 'provider', agent: 't' });
    expect(await peer.next()).toMatchObject({ type: 'challenge' });
    for (let i = 0; i < 20; i++) peer.send({ type: 'nonsense', i });
    expect((await peer.waitClose()).code).toBe(1008);
    const errors = peer.inbox.filter((x) => x.type === 'error');
    expect(errors.length).toBe(18);
    // The market is still there.
    const after = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
    expect(after.reply.type).toBe('welcome');
    after.peer.close();
  });

  it('answers HTTP reads, and 404s on unknown paths and WebSocket paths', async () => {
    const base = `http://127.0.0.1:${m.port}`;
    expect((await fetch(base + '/nope%zz')).status).toBe(404);
    expect((await fetch(base + PATHS.jobs, { method: 'POST' })).status).toBe(405);
    await expect(RawPeer.open(m.url + '/v1/other')).rejects.toThrow(/404/);
  });
});

describe('market: provider disconnects', () => {
  it('replaces an older connection, withdraws standing offers, and past its grace ends running jobs as market-unreachable', async () => {
    const m = await startMarket({ chainId, escrow, providerGraceMs: 500 });
    try {
      const w = Wallet.createRandom();
      const first = await TestProvider.connect(m.url, ctx, { score: 10 }, w);
      const second = await TestProvider.connect(m.url, ctx, { score: 10 }, w);
      expect((await first.peer.waitClose()).code).toBe(4001);
      const other = await TestProvider.connect(m.url, ctx, { score: 1 });
      const b = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
      b.peer.send({ type: 'submit', ref: 'x', job: job() });
      const o1 = await second.nextOffer();
      // Gone with the offer standing: it goes to the next provider at once.
      second.close();
      const o2 = await other.nextOffer(2000);
      expect(o2.offer.jobId).toBe(o1.offer.jobId);
      other.reply(o2.offer.offerId, true);
      await other.peer.next('job-confirmed');
      other.close();
      expect(await b.peer.next((x) => x.type === 'job-update' && x.reason === 'provider-disconnected')).toMatchObject({ jobId: o1.offer.jobId });
      expect(await b.peer.next('job-ended', 3000)).toMatchObject({ end: { jobId: o1.offer.jobId, state: 'market-unreachable' } });
      b.peer.close();
    } finally {
      await m.close();
    }
  });
});

describe('market: expired nonce', () => {
  it('refuses a sign-in after the nonce expired', async () => {
    const m = await startMarket({ chainId, escrow, nonceTtlMs: 200 });
    try {
      const w = Wallet.createRandom();
      const peer = await RawPeer.open(m.url + PATHS.provider);
      peer.send({ type: 'hello', versions: [1], role: 'provider', agent: 't' });
      const ch = await peer.next('challenge');
      await new Promise((r) => setTimeout(r, 400));
      const { signInMessage } = await import('../../../protocol/index.js');
      const text = signInMessage({ domain: ch.domain as string, address: w.address, uri: ch.uri as string, chainId, nonce: ch.nonce as string, issuedAt: ch.issuedAt as string, expirationTime: ch.expiresAt as string, role: 'provider' });
      peer.send({ type: 'sign-in', message: text, signature: await w.signMessage(text) });
      const e = await peer.next();
      expect(e).toMatchObject({ type: 'error', code: 'sign-in-refused' });
      expect(e.message).toMatch(/expired/);
    } finally {
      await m.close();
    }
  });
});

describe('market: matching, offers and relaying', () => {
  let m: RunningMarket;
  let temp: ReturnType<typeof makeTempHome>;
  const open: { close(): void }[] = [];
  beforeAll(async () => {
    temp = makeTempHome('offshift-market-');
    m = await startMarket({ chainId, escrow, offerTtlMs: 400 });
  });
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });
  afterAll(async () => {
    await m.close();
    temp.cleanup();
  });

  async function buyer(events: BuyerEvent[] = []) {
    const c = await BuyerClient.connect({ market: m.url, signer: buyerKey.privateKey, onEvent: (e) => events.push(e) });
    open.push(c);
    return c;
  }
  async function provider(ad: Parameters<typeof TestProvider.connect>[2]) {
    const p = await TestProvider.connect(m.url, ctx, ad);
    open.push(p);
    return p;
  }

  it('offers by requirements, then price, then score; a decline and an expiry each go to the next provider', async () => {
    const scored50 = await provider({ score: 50 });
    const scored10 = await provider({ score: 10 });
    const unscored = await provider({ score: null });
    const dear = await provider({ score: 99, prices: { minPricePerGpuHour: '2000000000000000000', minPricePerJobHour: '0' } });
    const smallVram = await provider({ score: 98, gpus: [{ model: 'small', vendor: 'nvidia', vramMiB: 8192, driver: null, cudaVersion: null, score: null }] });
    const paused = await provider({ score: 97, availability: { state: 'paused', reason: 'the owner is using the computer' } });
    const shortWindow = await provider({ score: 96, maxJobSeconds: 60 });
    await new Promise((r) => setTimeout(r, 50));
    const c = await buyer();
    const handle = await c.submit(job({ minVramMiB: 16_000, maxDurationSeconds: 600 }));

    const first = await scored50.nextOffer();
    expect(first.offer).toMatchObject({ jobId: handle.jobId, buyer: buyerKey.address, chainId, escrow, job: { image: IMAGE, pricePerHour: PRICE } });
    scored50.reply(first.offer.offerId, false, 'busy', 'one at a time');
    const second = await scored10.nextOffer();
    // scored10 lets it expire: the offer is withdrawn and goes to the unscored provider.
    expect(await scored10.peer.next('offer-withdrawn', 2000)).toMatchObject({ offerId: second.offer.offerId, reason: 'expired' });
    const third = await unscored.nextOffer();
    // A late accept from scored10 is answered with offer-withdrawn.
    scored10.reply(second.offer.offerId, true);
    expect(await scored10.peer.next('offer-withdrawn')).toMatchObject({ offerId: second.offer.offerId });
    for (const p of [dear, smallVram, paused, shortWindow]) expect(await p.peer.none('offer', 50)).toBe(true);
    unscored.reply(third.offer.offerId, true);
    expect(await unscored.peer.next('job-confirmed')).toMatchObject({ jobId: handle.jobId, offerId: third.offer.offerId });

    const view = (await fetch(`http://127.0.0.1:${m.port}${PATHS.jobs}`).then((r) => r.json())) as unknown[];
    const mine = view.map((v) => marketJobViewSchema.parse(v)).find((v) => v.jobId === handle.jobId)!;
    expect(mine).toMatchObject({ state: 'assigned', provider: unscored.address, offers: 3 });
    const offers = m.market['store'].offersOf(handle.jobId);
    expect(offers.map((o) => [o.provider, o.decision, o.reason])).toEqual([
      [scored50.address, 'declined', 'busy'],
      [scored10.address, 'expired', 'expired'],
      [unscored.address, 'accepted', null],
    ]);
    const providers = (await fetch(`http://127.0.0.1:${m.port}${PATHS.providers}`).then((r) => r.json())) as unknown[];
    expect(providers.map((p) => marketProviderViewSchema.parse(p)).find((p) => p.address === unscored.address)?.runningJobs).toEqual([handle.jobId]);
    handle.cancel();
    expect(await unscored.peer.next('cancel')).toMatchObject({ jobId: handle.jobId, reason: 'cancelled-by-buyer' });
  });

  it('keeps a job no provider can take queued, and offers it when one advertises', async () => {
    const c = await buyer();
    const events: string[] = [];
    const handle = await c.submit(job({ gpus: 8, pricePerHour: '3000000000000000000' }), { onEvent: (e) => e.type === 'update' && events.push(e.state) });
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toContain('queued');
    const big = await provider({ gpus: Array.from({ length: 8 }, () => ({ model: 'H100', vendor: 'nvidia' as const, vramMiB: 81_559, driver: null, cudaVersion: null, score: null })), freeGpus: 8 });
    const offer = await big.nextOffer();
    expect(offer.offer.jobId).toBe(handle.jobId);
    handle.cancel();
  });

  it('relays a paid job end to end: reports checked and paid by vouchers, output written, the result', async () => {
    const p = await provider({ score: 1000, slots: 1 });
    const events: BuyerEvent[] = [];
    const c = await buyer(events);
    const outDir = path.join(temp.home, 'out');
    const handle = await c.submit(job({ reportIntervalSeconds: 5 }), { outputDir: outDir });
    const o = await p.nextOffer();
    p.reply(o.offer.offerId, true);
    await p.peer.next('job-confirmed');
    p.peer.send({ type: 'job-started', jobId: handle.jobId });

    // A report signed by someone else, and one with a wrong amount: neither is paid.
    await p.report(handle.jobId, 1, PRICE, {}, Wallet.createRandom() as unknown as Wallet);
    await p.report(handle.jobId, 2, PRICE, { amountDue: '999999999999999999' });
    expect(await p.peer.none('voucher', 400)).toBe(true);
    const refused = events.filter((e) => e.type === 'usage' && !e.paid);
    expect(refused.map((e) => (e as { problem: string }).problem)).toEqual([expect.stringMatching(/signature is not the provider's/), expect.stringMatching(/amount due/)]);

    const good = await p.report(handle.jobId, 3, PRICE);
    const v1 = await p.peer.next('voucher');
    const signed = v1.signed as Parameters<typeof recoverVoucherSigner>[0];
    expect(signed.voucher).toMatchObject({ buyer: buyerKey.address, provider: p.address, jobId: crypto.createHash('sha256') && (await import('ethers')).id(handle.jobId), cumulativeAmount: good.amountDue });
    expect(recoverVoucherSigner(signed, chainId, escrow)).toBe(buyerKey.address);

    const png = crypto.randomBytes(300_000);
    const sha = crypto.createHash('sha256').update(png).digest('hex');
    const half = 192 * 1024;
    p.peer.send({ type: 'output', chunk: { jobId: handle.jobId, path: 'frames/out.png', index: 0, last: false, sha256: null, data: png.subarray(0, half).toString('base64') } });
    p.peer.send({ type: 'output', chunk: { jobId: handle.jobId, path: 'frames/out.png', index: 1, last: true, sha256: sha, data: png.subarray(half).toString('base64') } });
    p.peer.send({ type: 'output', chunk: { jobId: handle.jobId, path: 'bad.bin', index: 0, last: true, sha256: '0'.repeat(64), data: 'AAAA' } });
    p.end(handle.jobId, 'succeeded', 4);
    await p.report(handle.jobId, 4, PRICE, { final: true });
    const result = await handle.result;
    const v2 = await p.peer.next('voucher');
    expect((v2.signed as { voucher: { cumulativeAmount: string } }).voucher.cumulativeAmount).toBe(amountForSeconds(4, BigInt(PRICE)).toString());
    expect(result).toMatchObject({ jobId: handle.jobId, state: 'succeeded', provider: p.address, usageSeconds: 4, paid: amountForSeconds(4, BigInt(PRICE)).toString(), exitCode: 0 });
    expect(result.refusedReports).toHaveLength(2);
    expect(result.outputs).toEqual([{ path: 'frames/out.png', file: path.join(outDir, 'frames/out.png'), bytes: png.length, sha256: sha }]);
    expect(fs.readFileSync(path.join(outDir, 'frames/out.png')).equals(png)).toBe(true);
    expect(fs.existsSync(path.join(outDir, 'bad.bin'))).toBe(false);
    expect(events.some((e) => e.type === 'output-refused' && e.path === 'bad.bin')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const view = ((await fetch(`http://127.0.0.1:${m.port}${PATHS.jobs}`).then((r) => r.json())) as { jobId: string }[]).find((v) => v.jobId === handle.jobId);
    expect(view).toMatchObject({ state: 'succeeded', paid: result.paid, usageSeconds: 4 });
  });

  it('refuses a voucher the buyer did not sign and a report from a provider that does not run the job', async () => {
    const p = await provider({ score: 2000, slots: 1 });
    const c = await buyer();
    const handle = await c.submit(job());
    const o = await p.nextOffer();
    p.reply(o.offer.offerId, true);
    await p.peer.next('job-confirmed');
    const stranger = await provider({ slots: 0 });
    await stranger.report(handle.jobId, 1, PRICE);
    expect(await stranger.peer.next('error')).toMatchObject({ code: 'unknown-job' });
    // A voucher signed by another key, sent on the buyer's connection.
    const { signVoucher } = await import('../../../runtime/wallet/voucher.js');
    const forged = await signVoucher(Wallet.createRandom(), chainId, escrow, { buyer: buyerKey.address, provider: p.address, jobId: (await import('ethers')).id(handle.jobId), cumulativeAmount: '5', expiry: 2_000_000_000 });
    const raw = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
    raw.peer.send({ type: 'voucher', jobId: handle.jobId, signed: forged });
    expect(await raw.peer.next('error')).toMatchObject({ code: 'voucher-refused' });
    expect(await p.peer.none('voucher', 200)).toBe(true);
    raw.peer.close();
    handle.cancel();
  });

  it('keeps messages for a buyer that is away and delivers them on attach', async () => {
    const p = await provider({ score: 3000, slots: 1 });
    const first = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
    first.peer.send({ type: 'submit', ref: 'a', job: job() });
    const { jobId } = (await first.peer.next('submitted')) as Msg & { jobId: string };
    const o = await p.nextOffer();
    first.peer.close();
    await new Promise((r) => setTimeout(r, 50));
    p.reply(o.offer.offerId, true);
    await p.peer.next('job-confirmed');
    await p.report(jobId, 1, PRICE);
    const again = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
    again.peer.send({ type: 'attach', jobIds: [jobId] });
    expect(await again.peer.next('job-update')).toMatchObject({ jobId, state: 'assigned' });
    expect(await again.peer.next('usage')).toMatchObject({ report: { jobId, usageSeconds: 1 }, pricePerHour: PRICE });
    // Another buyer cannot attach to it.
    const other = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    other.peer.send({ type: 'attach', jobIds: [jobId] });
    expect(await other.peer.next('error')).toMatchObject({ code: 'unknown-job' });
    other.peer.close();
    again.peer.send({ type: 'cancel', jobId });
    await p.peer.next('cancel');
    p.end(jobId, 'cancelled', 1, 'cancelled-by-buyer', null);
    expect(await again.peer.next('job-ended')).toMatchObject({ end: { jobId, state: 'cancelled', reason: 'cancelled-by-buyer' }, provider: p.address });
    again.peer.close();
  });
});

describe('market: restart on the same database', () => {
  it('a buyer client rides out a market restart: it reconnects, re-attaches and pays to the end', async () => {
    const temp = makeTempHome('offshift-market-db-');
    const dbFile = path.join(temp.home, 'market.db');
    try {
      let m = await startMarket({ chainId, escrow, dbFile });
      const port = m.port;
      const p = await TestProvider.connect(m.url, ctx, { slots: 1 });
      const events: BuyerEvent[] = [];
      const client = await BuyerClient.connect({ market: m.url, signer: buyerKey, onEvent: (e) => events.push(e), reconnectForMs: 30_000 });
      const handle = await client.submit(job());
      const o = await p.nextOffer();
      p.reply(o.offer.offerId, true);
      await p.peer.next('job-confirmed');
      await p.report(handle.jobId, 1, PRICE);
      await p.peer.next('voucher');

      await m.close();
      p.close();
      m = await startMarket({ chainId, escrow, dbFile, port });
      const back = await TestProvider.connect(m.url, ctx, { slots: 0 }, p.wallet as never);
      back.peer.send({ type: 'resume', jobs: [{ jobId: handle.jobId, usageSeconds: 1 }] });
      expect(await back.peer.next('resumed')).toMatchObject({ jobs: [{ jobId: handle.jobId, known: true }] });
      // The market sends back the last voucher it relayed.
      expect(await back.peer.next('voucher')).toMatchObject({ jobId: handle.jobId });
      const deadline = Date.now() + 15_000;
      while (!events.some((e) => e.type === 'reconnected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['disconnected', 'reconnected']));
      await new Promise((r) => setTimeout(r, 100));
      await back.report(handle.jobId, 2, PRICE, { seq: 1 });
      expect(await back.peer.next('voucher')).toMatchObject({ signed: { voucher: { cumulativeAmount: amountForSeconds(2, BigInt(PRICE)).toString() } } });
      back.end(handle.jobId, 'succeeded', 3);
      await back.report(handle.jobId, 3, PRICE, { seq: 2, final: true });
      const result = await handle.result;
      expect(result).toMatchObject({ state: 'succeeded', usageSeconds: 3, paid: amountForSeconds(3, BigInt(PRICE)).toString(), provider: p.address });
      client.close();
      back.close();
      await m.close();
    } finally {
      temp.cleanup();
    }
  });

  it('keeps the jobs; the provider resumes its running job and the buyer re-attaches', async () => {
    const temp = makeTempHome('offshift-market-db-');
    const dbFile = path.join(temp.home, 'market.db');
    try {
      let m = await startMarket({ chainId, escrow, dbFile, offerTtlMs: 2000 });
      const p = await TestProvider.connect(m.url, ctx, { slots: 1 });
      const b = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
      b.peer.send({ type: 'submit', ref: 'run', job: job() });
      const running = ((await b.peer.next('submitted')) as Msg & { jobId: string }).jobId;
      const o = await p.nextOffer();
      p.reply(o.offer.offerId, true);
      await p.peer.next('job-confirmed');
      b.peer.send({ type: 'submit', ref: 'wait', job: job({ gpus: 4 }) });
      const waiting = ((await b.peer.next('submitted')) as Msg & { jobId: string }).jobId;
      const port = m.port;
      await m.close();
      p.close();
      b.peer.close();

      m = await startMarket({ chainId, escrow, dbFile, port });
      const jobs = (await fetch(`http://127.0.0.1:${port}${PATHS.jobs}`).then((r) => r.json())) as { jobId: string; state: string; provider: string | null }[];
      expect(jobs.find((j) => j.jobId === running)).toMatchObject({ state: 'assigned', provider: p.address });
      expect(jobs.find((j) => j.jobId === waiting)).toMatchObject({ state: 'queued', provider: null });
      const back = await TestProvider.connect(m.url, ctx, { slots: 0 }, p.wallet as never);
      back.peer.send({ type: 'resume', jobs: [{ jobId: running, usageSeconds: 42 }, { jobId: 'jUnknown', usageSeconds: 1 }] });
      expect(await back.peer.next('resumed')).toMatchObject({ jobs: [{ jobId: running, known: true }, { jobId: 'jUnknown', known: false }] });
      const b2 = await signIn(m.url, 'buyer', buyerKey as unknown as Wallet);
      b2.peer.send({ type: 'attach', jobIds: [running, waiting] });
      expect(await b2.peer.next((u) => u.type === 'job-update' && u.jobId === running)).toMatchObject({ state: 'assigned', reason: 'provider-reconnected' });
      expect(await b2.peer.next((u) => u.type === 'job-update' && u.jobId === waiting)).toMatchObject({ state: 'queued', reason: 'attached' });
      back.end(running, 'succeeded', 50);
      expect(await b2.peer.next('job-ended')).toMatchObject({ end: { jobId: running, state: 'succeeded', usageSeconds: 50 } });
      back.close();
      b2.peer.close();
      await m.close();
    } finally {
      temp.cleanup();
    }
  });
});
