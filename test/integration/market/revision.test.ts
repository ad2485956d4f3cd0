/**
 * Protocol revision 2 against older peers, over real WebSockets with real keys: the market answers
 * the highest revision both list; a revision-1 provider is never sent an image field nor `demand`;
 * a revision-1 buyer still gets its job through and never sees pull progress; the buyer client
 * against a market that speaks only 1 leaves the image fields out and says so once.
 */
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import type { MarketStore } from '../../../market/store.js';
import { startMarket, type MarketOptions, type RunningMarket } from '../../../market/server.js';
import { silentLogger } from '../../../runtime/log.js';
import type { Msg } from './peer.js';
import { RevisionProvider, signInAt, v1Refusal } from './revision-peers.js';
import { until } from '../../helpers/until.js';

const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ctx = { chainId, escrow };
const PRICE = '1000000000000000000';
const IMAGE = `registry.example/render@sha256:${'ab'.repeat(32)}`;
const GIB = 1024 ** 3;
const job = (over: Record<string, unknown> = {}) => ({ image: IMAGE, command: ['render'], gpus: 1, pricePerHour: PRICE, reportIntervalSeconds: 5, ...over });
const imageFields = { imageSizeBytes: 3 * GIB, maxPullSeconds: 600 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function market(options: Partial<MarketOptions> = {}): Promise<RunningMarket> {
  const m = await startMarket({ chainId, escrow, log: silentLogger, demandIntervalMs: 200, ...options });
  cleanups.push(() => m.close());
  return m;
}

async function provider(m: RunningMarket, versions: number[], ad: Parameters<typeof RevisionProvider.connect>[2]['ad'] = {}): Promise<RevisionProvider> {
  const p = await RevisionProvider.connect(m.url, ctx, { versions, ad });
  cleanups.push(() => p.close());
  return p;
}

async function buyer(m: RunningMarket, events: BuyerEvent[] = []): Promise<BuyerClient> {
  const c = await BuyerClient.connect({ market: m.url, signer: Wallet.createRandom().privateKey, reconnect: false, onEvent: (e) => events.push(e) });
  cleanups.push(() => c.close());
  return c;
}

/** Accepts the offer, says the job started, reports one final second and ends it. */
async function runToEnd(p: RevisionProvider, offer: Awaited<ReturnType<RevisionProvider['nextOffer']>>): Promise<void> {
  p.accept(offer.offer.offerId);
  await p.peer.next('job-confirmed');
  p.peer.send({ type: 'job-started', jobId: offer.offer.jobId });
  await sleep(1100);
  await p.report(offer.offer.jobId, 1, offer.offer.job.pricePerHour, true);
  p.end(offer.offer.jobId, 1);
}

const refusals = (role: 'provider' | 'buyer', seen: Msg[]) => seen.map((m) => v1Refusal(role, m)).filter((r) => r !== null);

describe('revision negotiation', () => {
  it('answers the highest revision both list; a market of revision 1 answers 1; no common revision is refused naming the market’s', async () => {
    const m2 = await market();
    const m1 = await market({ versions: [1] });
    const w = Wallet.createRandom() as unknown as Wallet;
    const at = async (m: RunningMarket, role: 'provider' | 'buyer', versions: number[]) => (await signInAt(m.url, role, w, versions)).challenge;
    expect((await at(m2, 'provider', [1, 2])).version).toBe(2);
    expect((await at(m2, 'buyer', [1, 2, 7])).version).toBe(2);
    expect((await at(m2, 'provider', [1])).version).toBe(1);
    expect((await at(m1, 'provider', [1, 2])).version).toBe(1);
    expect((await at(m1, 'buyer', [1, 2])).version).toBe(1);
    const refused = await at(m1, 'provider', [2]);
    expect(refused).toMatchObject({ type: 'error', code: 'unsupported-version' });
    expect(refused.message).toMatch(/speaks protocol versions 1; you offered 2\. Update the agent\./);
    expect(((await fetch(`http://127.0.0.1:${m1.port}/v1`).then((r) => r.json())) as { versions: number[] }).versions).toEqual([1]);
    expect(((await fetch(`http://127.0.0.1:${m2.port}/v1`).then((r) => r.json())) as { versions: number[] }).versions).toEqual([1, 2, 3]);
    await expect(startMarket({ chainId, escrow, versions: [2] })).rejects.toThrow(/speaks protocol revision 1/);
  });
});

describe('older peers never see revision 2', () => {
  it('a revision-1 provider gets offers without imageSizeBytes and maxPullSeconds, and never a demand; a revision-2 one gets both', async () => {
    const m = await market();
    // The revision-2 provider has room for the image and one slot: the first job is its, the second the revision-1 provider's.
    const p2 = await provider(m, [1, 2], { slots: 1, images: { digests: [], freeBudgetMiB: 100_000 } });
    const p1 = await provider(m, [1]);
    expect([p2.revision, p1.revision]).toEqual([2, 1]);
    const b1 = await buyer(m);
    const b2 = await buyer(m);
    const first = await b1.submit(job(imageFields));
    const o2 = await p2.nextOffer();
    expect(o2.offer.jobId).toBe(first.jobId);
    expect(o2.offer.job).toMatchObject(imageFields);
    const second = await b2.submit(job(imageFields));
    const o1 = await p1.nextOffer();
    expect(o1.offer.jobId).toBe(second.jobId);
    expect(o1.offer.job).not.toHaveProperty('imageSizeBytes');
    expect(o1.offer.job).not.toHaveProperty('maxPullSeconds');
    await runToEnd(p1, o1);
    expect((await second.result).state).toBe('succeeded');
    // Two buyers asked for the image: the revision-2 provider hears of it, the revision-1 one never does.
    const demand = await p2.peer.next((x) => x.type === 'demand' && (x.images as unknown[]).length > 0, 3000);
    expect(demand.images).toEqual([{ image: IMAGE, sizeBytes: 3 * GIB, requests: 2 }]);
    await sleep(500);
    expect(p1.seen.filter((x) => x.type === 'demand')).toEqual([]);
    expect(refusals('provider', p1.seen)).toEqual([]);
    expect(p1.seen.map((x) => x.type)).toEqual(expect.arrayContaining(['challenge', 'welcome', 'offer', 'job-confirmed', 'voucher']));
  });

  it('a revision-1 buyer submits and gets its job through, and is never sent pull progress', async () => {
    const m = await market();
    const p = await provider(m, [1, 2]);
    const w = Wallet.createRandom() as unknown as Wallet;
    const { peer, challenge, reply, seen } = await signInAt(m.url, 'buyer', w, [1]);
    cleanups.push(() => peer.close());
    expect([challenge.version, reply.type]).toEqual([1, 'welcome']);
    peer.send({ type: 'submit', ref: 'r1', job: job(), maxAttempts: 1 });
    const submitted = await peer.next('submitted');
    const offer = await p.nextOffer();
    expect(offer.offer.jobId).toBe(submitted.jobId);
    p.accept(offer.offer.offerId);
    await p.peer.next('job-confirmed');
    p.pullProgress(offer.offer.jobId, 0, 2 * GIB, null);
    p.pullProgress(offer.offer.jobId, 2 * GIB, 2 * GIB, 50e6);
    p.peer.send({ type: 'job-started', jobId: offer.offer.jobId });
    await p.report(offer.offer.jobId, 0, PRICE, true);
    p.end(offer.offer.jobId, 0);
    const ended = await peer.next('job-ended');
    expect(ended.end).toMatchObject({ jobId: submitted.jobId, state: 'succeeded' });
    await sleep(300);
    expect(seen.filter((x) => x.type === 'pull-progress')).toEqual([]);
    expect(refusals('buyer', seen)).toEqual([]);
    expect(seen.map((x) => x.type)).toEqual(expect.arrayContaining(['submitted', 'job-update', 'usage', 'job-ended']));
  });

  it('the buyer client against a market that speaks only 1 leaves out the image fields, says so once, and its job runs', async () => {
    const m = await market({ versions: [1] });
    const p = await provider(m, [1, 2]);
    expect(p.revision).toBe(1);
    const events: BuyerEvent[] = [];
    const c = await buyer(m, events);
    expect(c.revision).toBe(1);
    const handle = await c.submit(job(imageFields));
    const other = await c.submit(job({ ...imageFields, command: ['other'] }));
    const dropped = events.filter((e) => e.type === 'fields-dropped');
    expect(dropped).toEqual([{ type: 'fields-dropped', revision: 1, fields: ['imageSizeBytes', 'maxPullSeconds'], message: expect.stringMatching(/revision 1, which has no imageSizeBytes nor maxPullSeconds/) as string }]);
    // What the market recorded is what the client sent: no image field.
    const store = (m.market as unknown as { store: MarketStore }).store;
    for (const id of [handle.jobId, other.jobId]) expect(store.job(id)?.request).not.toHaveProperty('imageSizeBytes');
    const offer = await p.nextOffer();
    expect(offer.offer.jobId).toBe(handle.jobId);
    expect(offer.offer.job).not.toHaveProperty('maxPullSeconds');
    await runToEnd(p, offer);
    expect((await handle.result).state).toBe('succeeded');
    expect(p.seen.filter((x) => x.type === 'demand')).toEqual([]);
    expect(refusals('provider', p.seen)).toEqual([]);
  });
});

describe('revision 3: the payout address', () => {
  const PAYOUT = '0x00000000000000000000000000000000000fa1ce';

  it("names a provider's payout address to revision-3 buyers, whose vouchers pay it; a revision-2 buyer's job never goes to that provider", async () => {
    const m = await market();
    const paid = await provider(m, [1, 2, 3], { payee: PAYOUT });
    expect(paid.revision).toBe(3);

    // A revision-2 buyer would sign vouchers paying the provider's own key: its job waits for a provider without a payout address.
    const w = Wallet.createRandom() as unknown as Wallet;
    const old = await signInAt(m.url, 'buyer', w, [1, 2]);
    cleanups.push(() => old.peer.close());
    old.peer.send({ type: 'submit', ref: 'r2', job: job(), maxAttempts: 1 });
    const submitted = await old.peer.next('submitted');
    await expect(paid.nextOffer(1500)).rejects.toThrow();
    const plain = await provider(m, [1, 2, 3]);
    expect((await plain.nextOffer()).offer.jobId).toBe(submitted.jobId);

    // The buyer client speaks 3: told the payee when the provider accepts, it signs every voucher to it.
    const events: BuyerEvent[] = [];
    const c = await buyer(m, events);
    expect(c.revision).toBe(3);
    const handle = await c.submit(job());
    const offer = await paid.nextOffer();
    expect(offer.offer.jobId).toBe(handle.jobId);
    await runToEnd(paid, offer);
    expect((await handle.result).state).toBe('succeeded');
    await paid.peer.next('voucher', 3000).catch((e) => { throw new Error(`${(e as Error).message}; buyer events: ${JSON.stringify(events).slice(0, 3000)}`); });
    const vouchers = paid.seen.filter((x) => x.type === 'voucher').map((x) => (x.signed as { voucher: Record<string, unknown> }).voucher);
    expect(vouchers.length).toBeGreaterThan(0);
    for (const v of vouchers) expect(v).toMatchObject({ provider: paid.address, payee: expect.stringMatching(new RegExp(`^${PAYOUT}$`, 'i')) as string });
    // The revision-2 buyer never saw a payee in its job updates.
    expect(old.seen.filter((x) => x.type === 'job-update' && 'payee' in x)).toEqual([]);
    expect(refusals('buyer', old.seen)).toEqual([]);
  });

  it("a revision-2 provider's payee is dropped: the market names none, and its vouchers pay it", async () => {
    const m = await market();
    const p = await provider(m, [1, 2], { payee: PAYOUT });
    expect(p.revision).toBe(2);
    const c = await buyer(m);
    const handle = await c.submit(job());
    const offer = await p.nextOffer();
    await runToEnd(p, offer);
    expect((await handle.result).state).toBe('succeeded');
    await p.peer.next('voucher', 3000);
    const vouchers = p.seen.filter((x) => x.type === 'voucher').map((x) => (x.signed as { voucher: Record<string, unknown> }).voucher);
    expect(vouchers.length).toBeGreaterThan(0);
    for (const v of vouchers) expect(v).not.toHaveProperty('payee');
  });
});

describe('a provider flooding pull progress', () => {
  it('the buyer hears at most about two a second and always the last; the market keeps answering others meanwhile', async () => {
    const m = await market();
    const p = await provider(m, [1, 2, 3]);
    const events: BuyerEvent[] = [];
    const c = await buyer(m, events);
    const handle = await c.submit(job(imageFields));
    const offer = await p.nextOffer();
    p.accept(offer.offer.offerId);
    await p.peer.next('job-confirmed');
    // Its best strategy to crowd the buyer out: 5,000 reports over about 3 s, in bursts of 100.
    const total = 3 * GIB;
    const started = Date.now();
    const other = await buyer(m);
    let answeredMs = -1;
    for (let burst = 0; burst < 50; burst++) {
      for (let i = 1; i <= 100; i++) p.pullProgress(offer.offer.jobId, Math.floor((total * (burst * 100 + i)) / 5001), total, 100e6);
      // Meanwhile another buyer's submit is answered at once.
      if (burst === 25) {
        const askedAt = Date.now();
        await other.submit(job({ command: ['other'] }));
        answeredMs = Date.now() - askedAt;
      }
      await sleep(60);
    }
    p.pullProgress(offer.offer.jobId, total, total, 100e6);
    await until('the last report relayed', () => events.some((e) => e.type === 'pull-progress' && e.bytes === total), 10_000);
    const seconds = (Date.now() - started) / 1000;
    const relayed = events.filter((e) => e.type === 'pull-progress');
    console.log(`[revision] 5,001 pull reports in ${seconds.toFixed(1)} s: ${relayed.length} relayed to the buyer; another buyer's submit answered in ${answeredMs} ms`);
    expect(relayed.length).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 2);
    expect(relayed.length).toBeGreaterThanOrEqual(3); // paced, not silenced: the buyer still sees it move
    expect(relayed.at(-1)).toMatchObject({ bytes: total, totalBytes: total });
    expect(answeredMs).toBeGreaterThanOrEqual(0);
    expect(answeredMs).toBeLessThan(2000);
    p.peer.send({ type: 'job-started', jobId: offer.offer.jobId });
    await p.report(offer.offer.jobId, 0, PRICE, true);
    p.end(offer.offer.jobId, 0);
    expect((await handle.result).state).toBe('succeeded');
  });
});
