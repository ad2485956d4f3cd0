/**
 * Matching, pure: which connected provider gets the next offer of a job. Requirements first
 * (GPU count and VRAM, CPUs, memory, disk, duration, availability, free GPUs and slots), then
 * price (the job's price covers the provider's floor), then the job's image (held warm first, then
 * room for it, then the rest: image-ranking.ts), then the score's tier (null last), then the
 * provider offered least recently.
 *
 * The score is the provider's own claim, which the market cannot check: the schema bounds it
 * (MAX_ADVERTISED_SCORE) and matching compares it only in tiers of ×2, so a lie buys at most a
 * place in the top tier, where providers take turns (least recently offered first), which the
 * market does check: it keeps the times itself.
 */
import type { Advertisement, JobRequest } from '../protocol/index.js';
import { imageClass } from './image-ranking.js';

export interface Candidate {
  address: string;
  ad: Advertisement | null;
  connected: boolean;
  /** Offers standing and jobs confirmed since the last advertisement: not yet in `ad.slots`. */
  reservedSlots: number;
  reservedGpus: number;
  /** Unix ms of the last offer made to it (0: never). */
  lastOfferedAt: number;
}

/** The provider's floor for a job of `gpus` GPUs: max(minPricePerJobHour, gpus × minPricePerGpuHour). */
export function providerFloor(ad: Advertisement, gpus: number): bigint {
  const perJob = BigInt(ad.prices.minPricePerJobHour);
  const perGpus = BigInt(gpus) * BigInt(ad.prices.minPricePerGpuHour);
  return perJob > perGpus ? perJob : perGpus;
}

/** What matching needs from an advertisement, worked out once per advertisement (not once per job). */
interface AdFacts {
  /** floors[g]: the floor of a g-GPU job (g = 0…16). */
  floors: bigint[];
  /** VRAM of each card, largest first (unknown: -1). */
  vrams: number[];
}
const adFacts = new WeakMap<Advertisement, AdFacts>();
function factsOf(ad: Advertisement): AdFacts {
  let facts = adFacts.get(ad);
  if (!facts) {
    facts = { floors: Array.from({ length: 17 }, (_, g) => providerFloor(ad, g)), vrams: ad.gpus.map((g) => g.vramMiB ?? -1).sort((a, b) => b - a) };
    adFacts.set(ad, facts);
  }
  return facts;
}
const jobPrices = new WeakMap<JobRequest, bigint>();
function priceOf(job: JobRequest): bigint {
  let price = jobPrices.get(job);
  if (price === undefined) jobPrices.set(job, (price = BigInt(job.pricePerHour)));
  return price;
}

/** Why a provider cannot take a job (null: it can). The market's own view; the provider decides for itself. */
export function unfitReason(job: JobRequest, c: Candidate, market: { chainId: number; escrow: string }): string | null {
  const ad = c.ad;
  if (!c.connected) return 'disconnected';
  if (!ad) return 'no-advertisement';
  if (ad.availability.state === 'paused' || ad.availability.state === 'error') return 'not-available';
  if (ad.chainId !== market.chainId || (ad.escrow !== market.escrow && ad.escrow.toLowerCase() !== market.escrow.toLowerCase())) return 'wrong-chain';
  if (ad.slots - c.reservedSlots < 1) return 'busy';
  const facts = factsOf(ad);
  if (job.gpus > 0) {
    if (ad.gpus.length < job.gpus || ad.freeGpus - c.reservedGpus < job.gpus) return 'not-enough-gpus';
    // The job.gpus-th largest card must have the VRAM asked for.
    if (job.minVramMiB > 0 && (facts.vrams[job.gpus - 1] ?? -1) < job.minVramMiB) return 'not-enough-vram';
  }
  if (ad.cpus < job.cpus) return 'not-enough-cpus';
  if (ad.memoryMiB < job.memoryMiB) return 'not-enough-memory';
  if (ad.freeDiskMiB < job.diskMiB) return 'not-enough-disk';
  if (job.maxDurationSeconds > ad.maxJobSeconds) return 'duration-beyond-window';
  if (priceOf(job) < (facts.floors[job.gpus] ?? providerFloor(ad, job.gpus))) return 'price-below-floor';
  return null;
}

/** The score's tier: floor(log2(score)), scores below 2 in tier 0; null (no benchmark) stays null. */
export function scoreTier(score: number | null | undefined): number | null {
  if (score === null || score === undefined || !Number.isFinite(score)) return null;
  return Math.max(0, Math.floor(Math.log2(Math.max(1, score))));
}

/**
 * True when `a` should be offered before `b`: with a job, the image class first (holds its image,
 * then has room for it, then the rest); then higher score tier (null last), then least recently offered.
 */
export function before(a: Candidate, b: Candidate, job?: JobRequest): boolean {
  if (job) {
    const ia = imageClass(job, a.ad);
    const ib = imageClass(job, b.ad);
    if (ia !== ib) return ia < ib;
  }
  const sa = scoreTier(a.ad?.score);
  const sb = scoreTier(b.ad?.score);
  if (sa !== sb) {
    if (sa === null) return false;
    if (sb === null) return true;
    return sa > sb;
  }
  if (a.lastOfferedAt !== b.lastOfferedAt) return a.lastOfferedAt < b.lastOfferedAt;
  return a.address < b.address;
}

/**
 * The best provider for the job among `candidates`, skipping `exclude`; null when none fits. One
 * pass, no sort. `byImage` false: the caller knows the candidates are of one image class.
 */
export function pickProvider(job: JobRequest, candidates: Iterable<Candidate>, market: { chainId: number; escrow: string }, exclude: (c: Candidate) => boolean = () => false, byImage = true): Candidate | null {
  let best: Candidate | null = null;
  const imageOf = byImage ? job : undefined;
  for (const c of candidates) {
    if (exclude(c) || unfitReason(job, c, market) !== null) continue;
    if (best === null || before(c, best, imageOf)) best = c;
  }
  return best;
}

/** Every provider that fits, best first (for views and tests). */
export function rankProviders(job: JobRequest, candidates: Iterable<Candidate>, market: { chainId: number; escrow: string }): Candidate[] {
  return [...candidates].filter((c) => unfitReason(job, c, market) === null).sort((a, b) => (before(a, b, job) ? -1 : before(b, a, job) ? 1 : 0));
}

/**
 * The same choice as `pickProvider`, faster, among candidates of one image class (ranking.ts
 * keeps them apart): they come in buckets of equal score, best score first (null last); the first
 * bucket with a provider that fits holds the answer.
 */
export function pickFromBuckets(job: JobRequest, buckets: Iterable<Iterable<Candidate>>, market: { chainId: number; escrow: string }, exclude: (c: Candidate) => boolean = () => false): Candidate | null {
  for (const bucket of buckets) {
    const best = pickProvider(job, bucket, market, exclude, false);
    if (best) return best;
  }
  return null;
}

/** Buckets of equal score tier in matching order: highest first, null last. */
export class ScoreBuckets<C extends Candidate> {
  private readonly buckets = new Map<number | null, Set<C>>();
  private order: (number | null)[] = [];
  private readonly where = new Map<C, number | null>();

  /** Puts (or moves) the candidate in the bucket of its advertisement's score tier; removes it when it has none. */
  update(c: C): void {
    const score = c.ad && c.connected ? scoreTier(c.ad.score) : undefined;
    const was = this.where.get(c);
    if (was !== undefined || this.where.has(c)) {
      if (score === was) return;
      this.remove(c);
    }
    if (score === undefined) return;
    let set = this.buckets.get(score);
    if (!set) {
      this.buckets.set(score, (set = new Set()));
      this.order = [...this.buckets.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : b - a));
    }
    set.add(c);
    this.where.set(c, score);
  }

  remove(c: C): void {
    if (!this.where.has(c)) return;
    const score = this.where.get(c)!;
    this.where.delete(c);
    const set = this.buckets.get(score);
    set?.delete(c);
    if (set && set.size === 0) {
      this.buckets.delete(score);
      this.order = this.order.filter((s) => s !== score);
    }
  }

  *inOrder(): Generator<Set<C>> {
    for (const score of this.order) {
      const set = this.buckets.get(score);
      if (set) yield set;
    }
  }
}
