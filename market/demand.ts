/**
 * The market's demand list, pure: the pinned images buyers asked for within the last hour, most
 * asked first, with the size the buyers stated. Providers may pull them ahead of any job.
 *
 * One buyer counts once per image per window, however many jobs it submits, so one buyer cannot make
 * an image "in demand" alone. (Keys cost nothing, so a buyer with many keys still can: what it gains
 * is that providers pull an image nobody runs, within the budget each provider's owner set.) The
 * book is bounded: MAX_TRACKED_IMAGES images, MAX_BUYERS_PER_IMAGE buyers each.
 */
import { DIGEST_REF, MAX_DEMAND_IMAGES, type DemandedImage } from '../protocol/index.js';

/** How far back a request counts. An hour: a burst of jobs on one image is still news when a provider comes online. */
export const DEMAND_WINDOW_MS = 60 * 60_000;
/** Images followed at once; past it the least asked (then the oldest) is forgotten for the new one. */
export const MAX_TRACKED_IMAGES = 1024;
/** Buyers counted per image within the window: an image asked for by this many reads as this many. */
export const MAX_BUYERS_PER_IMAGE = 128;

interface Asked {
  at: number;
  /** The compressed size this buyer stated last (null: it stated none). */
  sizeBytes: number | null;
}

interface ImageDemand {
  /** By buyer, oldest request first (a buyer asking again moves to the end), so the expired are at the front. */
  buyers: Map<string, Asked>;
  lastAt: number;
}

export class DemandBook {
  private readonly images = new Map<string, ImageDemand>();

  constructor(
    private readonly windowMs = DEMAND_WINDOW_MS,
    private readonly maxImages = MAX_TRACKED_IMAGES,
    private readonly maxBuyers = MAX_BUYERS_PER_IMAGE,
  ) {}

  /** A buyer submitted a job on `image`. Only pinned images (repo@sha256:…) count: a local id cannot be pulled. */
  record(buyer: string, image: string, sizeBytes: number | undefined, now: number): void {
    if (!DIGEST_REF.test(image)) return;
    let entry = this.images.get(image);
    if (!entry) {
      if (this.images.size >= this.maxImages) this.makeRoom(now);
      this.images.set(image, (entry = { buyers: new Map(), lastAt: now }));
    }
    this.sweep(entry, now);
    entry.lastAt = now;
    const had = entry.buyers.get(buyer);
    if (!had && entry.buyers.size >= this.maxBuyers) return;
    entry.buyers.delete(buyer);
    entry.buyers.set(buyer, { at: now, sizeBytes: sizeBytes ?? had?.sizeBytes ?? null });
  }

  /**
   * The list as providers get it: images with at least one stated size (a provider budgets a pull by
   * it), by buyers desc, then most recently asked; `sizeBytes` is the median of the sizes stated
   * (one per buyer, its latest), so one buyer's wrong size does not set it.
   */
  list(now: number): DemandedImage[] {
    const rows: { image: string; requests: number; lastAt: number; sizes: number[] }[] = [];
    for (const [image, entry] of this.images) {
      this.sweep(entry, now);
      if (entry.buyers.size === 0) {
        this.images.delete(image);
        continue;
      }
      const sizes: number[] = [];
      for (const a of entry.buyers.values()) if (a.sizeBytes !== null) sizes.push(a.sizeBytes);
      if (sizes.length > 0) rows.push({ image, requests: entry.buyers.size, lastAt: entry.lastAt, sizes });
    }
    rows.sort((a, b) => b.requests - a.requests || b.lastAt - a.lastAt || (a.image < b.image ? -1 : 1));
    return rows.slice(0, MAX_DEMAND_IMAGES).map((r) => ({ image: r.image, sizeBytes: median(r.sizes), requests: r.requests }));
  }

  get size(): number {
    return this.images.size;
  }

  private sweep(entry: ImageDemand, now: number): void {
    for (const [buyer, asked] of entry.buyers) {
      if (asked.at > now - this.windowMs) break;
      entry.buyers.delete(buyer);
    }
  }

  /** Forgets expired images, and when none is, the least asked (then the oldest). */
  private makeRoom(now: number): void {
    let victim: [string, ImageDemand] | null = null;
    for (const item of this.images) {
      const [image, entry] = item;
      this.sweep(entry, now);
      if (entry.buyers.size === 0) this.images.delete(image);
      else if (!victim || entry.buyers.size < victim[1].buyers.size || (entry.buyers.size === victim[1].buyers.size && entry.lastAt < victim[1].lastAt)) victim = item;
    }
    if (this.images.size >= this.maxImages && victim) this.images.delete(victim[0]);
  }
}

/** The lower median. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}
