/**
 * The market's state machine when a provider is preempted: the job is placed again on another
 * provider (never one that ran it), each attempt is recorded in SQLite and paid on its own
 * channel, and the job ends when attempts, its maximum duration or the queue timeout run out.
 * The real Market over a real SQLite store; peers are in-memory message sinks (the transport is
 * server.ts's business, tested in test/integration/market/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { id as keccakText, Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { Market, type BuyerSession, type Peer } from '../../../market/market.js';
import { MarketStore } from '../../../market/store.js';
import { silentLogger } from '../../../runtime/log.js';
import { amountForSeconds, jobRequestSchema, type JobRequestInput, toProviderMessageSchema, type ProviderMessage, type ToBuyerMessage, type ToProviderMessage } from '../../../protocol/index.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { makeAd } from '../../helpers/market-ad.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const CHAIN = { chainId: 31337, escrow: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' };
const PRICE = 36_000_000_000_000_000_000n; // 0.01 token a second

class Sink<T extends { type: string }> implements Peer<T> {
  readonly sent: T[] = [];
  send(message: T): void {
    this.sent.push(message);
  }
  close(): void {}
  of<K extends T['type']>(type: K): Extract<T, { type: K }>[] {
    return this.sent.filter((m) => m.type === type) as Extract<T, { type: K }>[];
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface World {
  market: Market;
  store: MarketStore;
  buyer: Wallet;
  buyerPeer: Sink<ToBuyerMessage>;
  session: BuyerSession;
}

const open: { market: Market; store: MarketStore }[] = [];
afterEach(() => {
  for (const w of open.splice(0)) {
    w.market.close();
    w.store.close();
  }
});

function world(options: { queueTimeoutMs?: number; dbFile?: string; buyer?: Wallet } = {}): World {
  const store = new MarketStore(options.dbFile ?? ':memory:');
  const market = new Market(store, { ...CHAIN, offerTtlMs: 5000, providerGraceMs: 60_000, maxOpenJobsPerBuyer: 100, endedLingerMs: 60_000, queueTimeoutMs: options.queueTimeoutMs ?? 60_000, log: silentLogger });
  open.push({ market, store });
  const buyer = options.buyer ?? (Wallet.createRandom() as unknown as Wallet);
  const buyerPeer = new Sink<ToBuyerMessage>();
  const session = market.buyerConnected(buyer.address, buyerPeer);
  return { market, store, buyer, buyerPeer, session };
}

class Provider {
  readonly peer = new Sink<ToProviderMessage>();
  private seq = 0;
  constructor(
    private readonly market: Market,
    readonly wallet: Wallet = Wallet.createRandom() as unknown as Wallet,
  ) {
    market.providerConnected(this.address, this.peer);
    this.advertise();
  }
  get address(): string {
    return this.wallet.address;
  }
  send(msg: ProviderMessage) {
    return this.market.fromProvider(this.address, this.peer, msg);
  }
  advertise(): void {
    this.send({ type: 'advertise', ad: makeAd(CHAIN, { gpus: [], freeGpus: 0 }) });
  }
  offers() {
    return this.peer.of('offer').map((m) => m.offer);
  }
  /** Accepts its latest offer and starts the job. */
  take(jobId: string): void {
    const offer = this.offers().findLast((o) => o.jobId === jobId);
    if (!offer) throw new Error(`${this.address} was not offered ${jobId}`);
    expect(this.send({ type: 'offer-reply', offerId: offer.offerId, accept: true, reason: null, detail: '' })).toBeNull();
    expect(this.send({ type: 'job-started', jobId })).toBeNull();
  }
  report(jobId: string, usageSeconds: number, final = false) {
    // The market does not check report signatures (the buyer does): any well-formed one will do here.
    return this.send({ type: 'usage', report: { jobId, seq: ++this.seq, usageSeconds, amountDue: amountForSeconds(usageSeconds, PRICE).toString(), at: Date.now(), final, provider: this.address, signature: `0x${'11'.repeat(65)}` } });
  }
  end(jobId: string, state: 'preempted' | 'succeeded' | 'failed' | 'cancelled' | 'unpaid' | 'timed-out' | 'market-unreachable', usageSeconds: number) {
    return this.send({ type: 'job-ended', end: { jobId, state, reason: state, detail: `ended ${state}`, usageSeconds, exitCode: null } });
  }
}

/** A submit as the buyer client sends it (maxAttempts 3 unless given); `null` leaves the field out, as an older client does. */
function submit(w: World, over: Partial<JobRequestInput> = {}, maxAttempts: number | null = 3): string {
  const job = jobRequestSchema.parse({ image: 'sha256:' + 'ab'.repeat(32), command: ['x'], gpus: 0, pricePerHour: PRICE.toString(), maxDurationSeconds: 600, ...over });
  const before = w.buyerPeer.of('submitted').length;
  expect(w.market.fromBuyer(w.session, { type: 'submit', ref: 'r', job, ...(maxAttempts !== null ? { maxAttempts } : {}) })).toBeNull();
  return w.buyerPeer.of('submitted')[before]!.jobId;
}

async function voucher(w: World, jobId: string, provider: string, seconds: number) {
  const signed = await signVoucher(w.buyer, CHAIN.chainId, CHAIN.escrow, { buyer: w.buyer.address, provider, jobId: keccakText(jobId), cumulativeAmount: amountForSeconds(seconds, PRICE).toString(), expiry: Math.floor(Date.now() / 1000) + 3600 });
  return w.market.fromBuyer(w.session, { type: 'voucher', jobId, signed });
}

/** A runs the job for `seconds` (paid to there) and is preempted. */
async function runThenPreempt(w: World, a: Provider, jobId: string, seconds: number): Promise<void> {
  a.take(jobId);
  expect(a.report(jobId, seconds, true)).toBeNull();
  expect(await voucher(w, jobId, a.address, seconds)).toBeNull();
  expect(a.end(jobId, 'preempted', seconds)).toBeNull();
}

const view = (w: World, jobId: string) => w.market.jobsView().find((j) => j.jobId === jobId)!;

describe('the market places a preempted job again', () => {
  it('records the attempt, queues the job with a reason the buyer reads, and offers it to the next provider, never to the one that ran it', async () => {
    const w = world();
    const a = new Provider(w.market);
    const jobId = submit(w);
    await runThenPreempt(w, a, jobId, 40);

    // A is back and advertises itself available: still not offered the job again.
    a.advertise();
    await tick();
    expect(a.offers()).toHaveLength(1);
    expect(view(w, jobId)).toMatchObject({ state: 'queued', reason: 're-placing', provider: null, attempts: 1, maxAttempts: 3, usageSeconds: 40, paid: amountForSeconds(40, PRICE).toString() });
    const ended = w.buyerPeer.of('attempt-ended');
    expect(ended).toEqual([{ type: 'attempt-ended', jobId, attempt: 1, provider: a.address, end: expect.objectContaining({ state: 'preempted', usageSeconds: 40 }), next: 2, maxAttempts: 3 }]);
    const update = w.buyerPeer.of('job-update').at(-1)!;
    expect(update).toMatchObject({ state: 'queued', reason: 're-placing', provider: null });
    expect(update.detail).toBe(`Preempted on provider ${a.address}: placing it again (attempt 2 of 3).`);

    // In SQLite: the attempt, with what it ran and was paid.
    const rows = w.store.db.prepare('SELECT attempt, provider, usage_seconds, paid, state FROM attempts WHERE job_id = ?').all(jobId);
    expect(rows).toEqual([{ attempt: 1, provider: a.address, usage_seconds: 40, paid: amountForSeconds(40, PRICE).toString(), state: 'preempted' }]);

    // B comes: it is offered the job, with the maximum duration less what A ran.
    const b = new Provider(w.market);
    await tick();
    expect(b.offers()).toHaveLength(1);
    expect(b.offers()[0]!.job.maxDurationSeconds).toBe(600 - 40);
    // An ordinary v1 offer: what every provider already parses (maxAttempts stays with the market).
    expect(toProviderMessageSchema.safeParse(b.peer.of('offer')[0]).success).toBe(true);
    expect(b.offers()[0]!.job).not.toHaveProperty('maxAttempts');
    b.take(jobId);
    expect(b.report(jobId, 30, true)).toBeNull(); // its own seq and usage, from zero
    expect(await voucher(w, jobId, b.address, 30)).toBeNull();
    expect(b.end(jobId, 'succeeded', 30)).toBeNull();
    expect(view(w, jobId)).toMatchObject({ state: 'succeeded', provider: b.address, attempts: 2, usageSeconds: 70, paid: amountForSeconds(40, PRICE) + amountForSeconds(30, PRICE) + '' });
    expect(w.buyerPeer.of('job-ended').at(-1)).toMatchObject({ provider: b.address, end: { state: 'succeeded', usageSeconds: 30 } });
  });

  it('places the job again only on a preempted ending: failed, cancelled, unpaid, timed-out and market-unreachable end it', async () => {
    const w = world();
    for (const state of ['failed', 'cancelled', 'unpaid', 'timed-out', 'market-unreachable'] as const) {
      const a = new Provider(w.market);
      const jobId = submit(w);
      a.take(jobId);
      a.end(jobId, state, 5);
      expect(view(w, jobId)).toMatchObject({ state, attempts: 1 });
      expect(w.buyerPeer.of('attempt-ended')).toEqual([]);
      expect(w.store.db.prepare('SELECT COUNT(*) AS n FROM attempts').get()).toEqual({ n: 0 });
      w.market.providerGone(a.address, a.peer);
    }
  });

  it('ends the job preempted, saying so, when its attempts are used up', async () => {
    const w = world();
    const [a, b] = [new Provider(w.market), new Provider(w.market)];
    const jobId = submit(w, {}, 2);
    const first = [a, b].find((p) => p.offers().length === 1)!;
    const second = first === a ? b : a;
    await runThenPreempt(w, first, jobId, 10);
    await tick();
    await runThenPreempt(w, second, jobId, 10);
    expect(view(w, jobId)).toMatchObject({ state: 'preempted', reason: 'attempts-exhausted', attempts: 2, usageSeconds: 20 });
    const end = w.buyerPeer.of('job-ended').at(-1)!;
    expect(end.end.detail).toBe(`Preempted on provider ${second.address}, and no attempts are left (2 of 2 used).`);

    // One attempt asked for: the first preemption ends it.
    const only = submit(w, {}, 1);
    const p = [a, b].find((x) => x.offers().some((o) => o.jobId === only))!;
    await runThenPreempt(w, p, only, 5);
    expect(view(w, only)).toMatchObject({ state: 'preempted', reason: 'attempts-exhausted', attempts: 1 });

    // A submit without maxAttempts (a client that predates re-placement, which could not pay a
    // second provider): one attempt, as before.
    const older = submit(w, {}, null);
    expect(view(w, older)).toMatchObject({ maxAttempts: 1 });
    const q = [a, b].find((x) => x.offers().some((o) => o.jobId === older))!;
    await runThenPreempt(w, q, older, 5);
    expect(view(w, older)).toMatchObject({ state: 'preempted', reason: 'attempts-exhausted', attempts: 1 });
    expect(w.buyerPeer.of('attempt-ended').filter((m) => m.jobId === older)).toEqual([]);
  });

  it('ends the job preempted when its maximum duration is used up', async () => {
    const w = world();
    const a = new Provider(w.market);
    const jobId = submit(w, { maxDurationSeconds: 60 });
    await runThenPreempt(w, a, jobId, 60);
    expect(view(w, jobId)).toMatchObject({ state: 'preempted', reason: 'max-duration-used', attempts: 1 });
  });

  it('with no other provider, the job waits queued and ends expired at the queue timeout, saying why', async () => {
    const w = world({ queueTimeoutMs: 400 });
    const a = new Provider(w.market);
    const jobId = submit(w);
    await sleep(250); // the queue timeout counts from the re-placement, not from the submission
    await runThenPreempt(w, a, jobId, 12);
    await sleep(250);
    expect(view(w, jobId).state).toBe('queued');
    await sleep(300);
    expect(view(w, jobId)).toMatchObject({ state: 'expired', reason: 'queue-timeout', attempts: 1, usageSeconds: 12 });
    const end = w.buyerPeer.of('job-ended').at(-1)!;
    expect(end).toMatchObject({ provider: null, end: { state: 'expired', reason: 'queue-timeout', usageSeconds: 0 } });
    expect(end.end.detail).toBe(`Preempted on provider ${a.address}, and no other provider took the job within 400 ms (attempt 2 of 3 was never placed).`);

    // A job no provider ever takes expires the same way.
    const lonely = submit(w, { gpus: 4 });
    await sleep(600);
    expect(view(w, lonely)).toMatchObject({ state: 'expired', reason: 'queue-timeout', attempts: 0 });
    expect(w.buyerPeer.of('job-ended').at(-1)!.end.detail).toMatch(/^No provider took the job within/);
  });

  it('sends vouchers of an earlier attempt to that attempt\'s provider, late or not, and refuses one for a provider that never ran the job', async () => {
    const w = world();
    const a = new Provider(w.market);
    const jobId = submit(w);
    a.take(jobId);
    a.report(jobId, 20);
    expect(await voucher(w, jobId, a.address, 20)).toBeNull();
    a.report(jobId, 25, true);
    a.end(jobId, 'preempted', 25);
    const b = new Provider(w.market);
    await tick();
    b.take(jobId);
    b.report(jobId, 10);

    // A's final report was relayed before the re-placement; its voucher comes now, while B runs.
    const aVouchersBefore = a.peer.of('voucher').length;
    expect(await voucher(w, jobId, a.address, 25)).toBeNull();
    expect(a.peer.of('voucher')).toHaveLength(aVouchersBefore + 1);
    expect(a.peer.of('voucher').at(-1)!.signed.voucher.cumulativeAmount).toBe(amountForSeconds(25, PRICE).toString());
    expect(b.peer.of('voucher')).toEqual([]);
    expect(await voucher(w, jobId, b.address, 10)).toBeNull();
    expect(b.peer.of('voucher')).toHaveLength(1);
    expect(a.peer.of('voucher')).toHaveLength(aVouchersBefore + 1);

    // A's channel does not go down; nobody else's voucher is relayed.
    expect(await voucher(w, jobId, a.address, 20)).toMatchObject({ code: 'voucher-refused' });
    expect(await voucher(w, jobId, Wallet.createRandom().address, 5)).toMatchObject({ code: 'voucher-refused', message: expect.stringMatching(/does not name the job's provider/) });
    expect(w.store.db.prepare('SELECT paid FROM attempts WHERE job_id = ? AND attempt = 1').get(jobId)).toEqual({ paid: amountForSeconds(25, PRICE).toString() });
    expect(w.store.db.prepare('SELECT attempt, COUNT(*) AS n FROM vouchers WHERE job_id = ? GROUP BY attempt ORDER BY attempt').all(jobId)).toEqual([
      { attempt: 1, n: 2 },
      { attempt: 2, n: 1 },
    ]);
    // A late report of A's still goes to the buyer on A's sequence; B's sequence is its own.
    expect(a.report(jobId, 25, true)).toBeNull();
    expect(w.buyerPeer.of('usage').at(-1)!.report.provider).toBe(a.address);
    expect(view(w, jobId)).toMatchObject({ provider: b.address, usageSeconds: 35, paid: (amountForSeconds(25, PRICE) + amountForSeconds(10, PRICE)).toString(), attempts: 2 });
  });

  it('a buyer away during the re-placement is told, on re-attach, of the attempt that ended and the one that runs', async () => {
    const w = world();
    const a = new Provider(w.market);
    const jobId = submit(w);
    a.take(jobId);
    w.market.buyerGone(w.session);
    a.report(jobId, 8, true);
    a.end(jobId, 'preempted', 8);
    const b = new Provider(w.market);
    await tick();
    b.take(jobId);

    const back = new Sink<ToBuyerMessage>();
    const session = w.market.buyerConnected(w.buyer.address, back);
    expect(w.market.fromBuyer(session, { type: 'attach', jobIds: [jobId] })).toBeNull();
    const types = back.sent.map((m) => (m.type === 'job-update' ? `${m.type}:${m.state}:${m.reason}` : m.type));
    expect(types).toEqual(['attempt-ended', 'usage', 'attempt-ended', 'job-update:queued:re-placing', 'job-update:assigned:accepted', 'job-update:running:started', 'job-update:running:attached']);
    expect(back.of('attempt-ended')[0]).toMatchObject({ attempt: 1, provider: a.address, next: 2 });
    expect(back.of('job-update').at(-1)).toMatchObject({ state: 'running', provider: b.address });
  });

  it('a cancel while the job waits to be placed again ends it cancelled; nothing is offered after', async () => {
    const w = world();
    const a = new Provider(w.market);
    const jobId = submit(w);
    await runThenPreempt(w, a, jobId, 5);
    expect(w.market.fromBuyer(w.session, { type: 'cancel', jobId })).toBeNull();
    expect(view(w, jobId)).toMatchObject({ state: 'cancelled', attempts: 1, usageSeconds: 5 });
    const b = new Provider(w.market);
    await tick();
    expect(b.offers()).toEqual([]);
  });

  it('a market restarted on the same file keeps the attempts: the job is queued again and still not offered to the provider that ran it', async () => {
    const dir = makeTempDir('offshift-market-replace-');
    try {
      const dbFile = path.join(dir, 'market.db');
      const w = world({ dbFile });
      const a = new Provider(w.market);
      const jobId = submit(w);
      await runThenPreempt(w, a, jobId, 30);
      w.market.close();
      w.store.close();
      open.length = 0;

      const again = world({ dbFile, buyer: w.buyer });
      expect(view(again, jobId)).toMatchObject({ state: 'queued', attempts: 1, usageSeconds: 30, paid: amountForSeconds(30, PRICE).toString() });
      const a2 = new Provider(again.market, a.wallet); // the same provider, signed in to the new market
      await tick();
      expect(a2.offers()).toEqual([]);
      const b = new Provider(again.market);
      await tick();
      expect(b.offers().map((o) => o.jobId)).toEqual([jobId]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
