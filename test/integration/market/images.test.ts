/**
 * The market's image additions (revision 2) over real WebSockets with real keys: a provider that
 * holds the job's image gets it before a cold one at the same price; the demand list counts
 * buyers, not jobs, and reaches revision-2 providers on sign-in and when it changes, paced; pull
 * progress from the job's own provider reaches its buyer, from any other provider it is refused.
 */
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import { startMarket, type MarketOptions, type RunningMarket } from '../../../market/server.js';
import { silentLogger } from '../../../runtime/log.js';
import type { Advertisement } from '../../../protocol/index.js';
import type { Msg } from './peer.js';
import { RevisionProvider } from './revision-peers.js';

const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ctx = { chainId, escrow };
const PRICE = '1000000000000000000';
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const imageOf = (n: number) => `registry.example/render@${digest(n)}`;
const GIB = 1024 ** 3;
const job = (image: string, over: Record<string, unknown> = {}) => ({ image, command: ['render'], gpus: 1, pricePerHour: PRICE, reportIntervalSeconds: 5, ...over });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const paused = { availability: { state: 'paused' as const, reason: 'test' } };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function market(options: Partial<MarketOptions> = {}): Promise<RunningMarket> {
  const m = await startMarket({ chainId, escrow, log: silentLogger, ...options });
  cleanups.push(() => m.close());
  return m;
}

async function provider(m: RunningMarket, ad: Partial<Advertisement> = {}, wallet?: Wallet): Promise<RevisionProvider> {
  const p = await RevisionProvider.connect(m.url, ctx, { versions: [1, 2], ad, wallet });
  cleanups.push(() => p.close());
  return p;
}

async function buyer(m: RunningMarket, events: BuyerEvent[] = []): Promise<BuyerClient> {
  const c = await BuyerClient.connect({ market: m.url, signer: Wallet.createRandom().privateKey, reconnect: false, onEvent: (e) => events.push(e) });
  cleanups.push(() => c.close());
  return c;
}

/** Two wallets, the first with the smaller address (so the address tie-break would favour it). */
function orderedWallets(): [Wallet, Wallet] {
  const [a, b] = [Wallet.createRandom(), Wallet.createRandom()] as unknown as [Wallet, Wallet];
  return a.address.toLowerCase() < b.address.toLowerCase() ? [a, b] : [b, a];
}

describe('images on the market', () => {
  it('the provider holding the image gets the job over a cold one at the same price, job after job', async () => {
    const m = await market();
    const [coldKey, warmKey] = orderedWallets();
    const cold = await provider(m, { images: { digests: [digest(2)], freeBudgetMiB: 200_000 } }, coldKey);
    const warm = await provider(m, { images: { digests: [digest(9), digest(1)], freeBudgetMiB: 0 } }, warmKey);
    await sleep(100);
    const b = await buyer(m);
    for (let i = 0; i < 3; i++) {
      // CPU-only, so that the one GPU each advertises does not decide.
      const h = await b.submit(job(imageOf(1), { gpus: 0, imageSizeBytes: 2 * GIB, command: ['render', String(i)] }));
      const o = await warm.nextOffer();
      expect(o.offer.jobId).toBe(h.jobId);
      warm.accept(o.offer.offerId);
      await warm.peer.next('job-confirmed');
    }
    expect(await cold.peer.none('offer', 300)).toBe(true);
    // An image neither holds: the one with room for it comes first.
    const other = await b.submit(job(imageOf(3), { gpus: 0, imageSizeBytes: 2 * GIB }));
    expect((await cold.nextOffer()).offer.jobId).toBe(other.jobId);
  });

  it('demand: three buyers of one image count 3, one buyer submitting another 50 times counts 1; sent on sign-in and on change, paced, to revision 2 only', async () => {
    const m = await market({ demandIntervalMs: 400 });
    const early = await provider(m, paused);
    const arrivals: number[] = [];
    early.peer.ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as Msg).type === 'demand') arrivals.push(Date.now());
    });
    // On sign-in, the list as it stands: empty.
    expect(await early.peer.next('demand')).toEqual({ type: 'demand', images: [] });
    for (let k = 0; k < 3; k++) await (await buyer(m)).submit(job(imageOf(1), { imageSizeBytes: 4 * GIB }));
    const spammer = await buyer(m);
    for (let i = 0; i < 50; i++) await spammer.submit(job(imageOf(2), { imageSizeBytes: GIB, command: ['spam', String(i)] }));
    const want = [
      { image: imageOf(1), sizeBytes: 4 * GIB, requests: 3 },
      { image: imageOf(2), sizeBytes: GIB, requests: 1 },
    ];
    await early.peer.next((x) => JSON.stringify(x.images) === JSON.stringify(want), 5000);
    const late = await provider(m, paused);
    expect(await late.peer.next('demand')).toEqual({ type: 'demand', images: want });
    // Never two to one provider within the interval.
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    expect(gaps.every((g) => g >= 390)).toBe(true);
    const revision1 = await RevisionProvider.connect(m.url, ctx, { versions: [1], ad: paused });
    cleanups.push(() => revision1.close());
    await sleep(600);
    expect(revision1.seen.filter((x) => x.type === 'demand')).toEqual([]);
  });

  it('pull progress from the job’s provider reaches its buyer, paced; from another provider it is refused', async () => {
    const m = await market();
    const owner = await provider(m, { images: { digests: [], freeBudgetMiB: 100_000 } });
    const events: BuyerEvent[] = [];
    const b = await buyer(m, events);
    const h = await b.submit(job(imageOf(5), { imageSizeBytes: 2 * GIB, maxPullSeconds: 300 }));
    const o = await owner.nextOffer();
    expect(o.offer.job).toMatchObject({ imageSizeBytes: 2 * GIB, maxPullSeconds: 300 });
    owner.accept(o.offer.offerId);
    await owner.peer.next('job-confirmed');
    const intruder = await provider(m);
    intruder.pullProgress(h.jobId, GIB, 2 * GIB, 1e9);
    expect(await intruder.peer.next('error')).toMatchObject({ code: 'unknown-job', ref: h.jobId });
    owner.pullProgress(h.jobId, 0, 2 * GIB, null);
    // Within 500 ms of the last one relayed: held back; the next one after that goes.
    owner.pullProgress(h.jobId, GIB / 2, 2 * GIB, 80e6);
    await sleep(600);
    owner.pullProgress(h.jobId, GIB, 2 * GIB, 90e6);
    owner.pullProgress(h.jobId, 2 * GIB, 2 * GIB, 95e6);
    owner.peer.send({ type: 'job-started', jobId: h.jobId });
    await sleep(1100);
    await owner.report(h.jobId, 1, PRICE, true);
    owner.end(h.jobId, 1);
    expect((await h.result).state).toBe('succeeded');
    const pulls = events.filter((e) => e.type === 'pull-progress');
    expect(pulls).toEqual([
      { type: 'pull-progress', jobId: h.jobId, bytes: 0, totalBytes: 2 * GIB, bytesPerSecond: null },
      { type: 'pull-progress', jobId: h.jobId, bytes: GIB, totalBytes: 2 * GIB, bytesPerSecond: 90e6 },
      { type: 'pull-progress', jobId: h.jobId, bytes: 2 * GIB, totalBytes: 2 * GIB, bytesPerSecond: 95e6 },
    ]);
  });
});
