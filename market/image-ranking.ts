/**
 * The image rule of matching, pure: a provider that holds the job's image warm is offered it first,
 * then one whose free image budget covers the image's stated size, then the rest (docs/market.md,
 * "Matching"). Also the index that finds a digest's holders without looking at every provider.
 *
 * Holding an image is the provider's claim, which the market cannot check. A provider that lies
 * gains the first offer of jobs on that image, and then must pull it unpaid (pull time is never
 * billed) while the buyer's `maxPullSeconds` runs: the lie costs the liar its own bandwidth and
 * disk, and the buyer at most the wait it allowed. It claims at most MAX_ADVERTISED_IMAGES digests.
 */
import type { Advertisement, JobRequest } from '../protocol/index.js';

/** 0: holds the job's image; 1: cold, with room for it by its stated size; 2: the rest. Lower is offered first. */
export type ImageClass = 0 | 1 | 2;

const MIB = 1024 * 1024;

interface ImageFacts {
  digests: ReadonlySet<string>;
  /** What it may still pull, bytes (null: it did not say: no `images` in its advertisement). */
  budgetBytes: number | null;
}
const NO_IMAGES: ImageFacts = { digests: new Set(), budgetBytes: null };
const imageFacts = new WeakMap<Advertisement, ImageFacts>();

/** The advertisement's digests as a Set and its budget in bytes, worked out once per advertisement. */
export function imageFactsOf(ad: Advertisement): ImageFacts {
  if (!ad.images) return NO_IMAGES;
  let facts = imageFacts.get(ad);
  if (!facts) imageFacts.set(ad, (facts = { digests: new Set(ad.images.digests), budgetBytes: ad.images.freeBudgetMiB * MIB }));
  return facts;
}

const jobDigests = new WeakMap<JobRequest, string | null>();

/** The digest the job pins (`repo@sha256:…` or a local id `sha256:…`): what a warm provider advertises. */
export function jobImageDigest(job: JobRequest): string | null {
  let digest = jobDigests.get(job);
  if (digest === undefined) {
    const at = job.image.lastIndexOf('sha256:');
    jobDigests.set(job, (digest = at >= 0 ? job.image.slice(at) : null));
  }
  return digest;
}

/** Whether the advertisement's free image budget covers `sizeBytes` (compressed, as the buyer states it). */
export function hasRoomFor(ad: Advertisement | null, sizeBytes: number): boolean {
  const budget = ad ? imageFactsOf(ad).budgetBytes : null;
  return budget !== null && budget >= sizeBytes;
}

/** Where the provider stands for the job's image. Without a stated size, every cold provider is "the rest" alike. */
export function imageClass(job: JobRequest, ad: Advertisement | null): ImageClass {
  if (!ad) return 2;
  const digest = jobImageDigest(job);
  if (digest !== null && imageFactsOf(ad).digests.has(digest)) return 0;
  if (job.imageSizeBytes !== undefined && hasRoomFor(ad, job.imageSizeBytes)) return 1;
  return 2;
}

/** Digest → the candidates whose advertisement holds it, kept as advertisements come and go. */
export class WarmIndex<C extends { ad: Advertisement | null }> {
  private readonly holders = new Map<string, Set<C>>();
  private readonly indexed = new Map<C, ReadonlySet<string>>();

  /** Indexes the candidate under its advertisement's digests (none: `listed` false, or no images). */
  update(c: C, listed: boolean): void {
    const digests = listed && c.ad ? imageFactsOf(c.ad).digests : NO_IMAGES.digests;
    if (this.indexed.get(c) === digests) return;
    this.remove(c);
    if (digests.size === 0) return;
    for (const d of digests) {
      let set = this.holders.get(d);
      if (!set) this.holders.set(d, (set = new Set()));
      set.add(c);
    }
    this.indexed.set(c, digests);
  }

  remove(c: C): void {
    const digests = this.indexed.get(c);
    if (!digests) return;
    this.indexed.delete(c);
    for (const d of digests) {
      const set = this.holders.get(d);
      set?.delete(c);
      if (set?.size === 0) this.holders.delete(d);
    }
  }

  /** The candidates holding `digest` (empty: none). */
  of(digest: string): Iterable<C> {
    return this.holders.get(digest) ?? [];
  }
}
