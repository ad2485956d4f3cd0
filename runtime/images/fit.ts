/**
 * Whether an image fits before a byte of it is pulled, pure: the manifest's layers the engine
 * lacks, what they will take on disk, the claims an offer made about them (size, pull time),
 * and what must be removed to make room. Every refusal says its figures.
 */
import { planFit, type DiskPicture, type EvictionCandidate, type FitPlan } from './eviction.js';
import type { ManifestFacts } from './registry.js';

/** Until a pull has been measured, an image takes this many times its compressed size on disk (CUDA images expand about 2–2.5×). */
export const DEFAULT_EXPANSION = 2.5;
/** A size claim this close to the manifest's is the same (rounding by the buyer's tools). */
export const SIZE_TOLERANCE = (bytes: number) => Math.max(1024 * 1024, bytes * 0.01);

export interface ImageNeed {
  /** Compressed bytes still to download: the layers the engine lacks, less what the blob cache already holds of them. */
  missingBytes: number;
  /** What the pull takes on disk at its peak: the missing layers unpacked (with the measured expansion), and their compressed copies in the blob cache. */
  diskBytes: number;
}

export function imageNeed(facts: ManifestFacts, present: ReadonlySet<string>, expansion: number, held: (digest: string) => number = () => 0): ImageNeed {
  const lacking = facts.layers.filter((l) => !present.has(l.diffId));
  const compressed = lacking.reduce((sum, l) => sum + l.sizeBytes, 0);
  const missingBytes = lacking.reduce((sum, l) => sum + Math.max(0, l.sizeBytes - held(l.digest)), 0);
  return { missingBytes, diskBytes: Math.ceil(compressed * expansion) + missingBytes };
}

export type FitVerdict =
  | { ok: true; need: ImageNeed; plan: Extract<FitPlan, { fits: true }> }
  | { ok: false; reason: 'image-size-mismatch' | 'pull-too-slow' | 'not-enough-disk'; detail: string; need: ImageNeed };

export interface OfferClaims {
  imageSizeBytes?: number;
  maxPullSeconds?: number;
}

export function judgeFit(input: { facts: ManifestFacts; need: ImageNeed; claims: OfferClaims; rate: number | null; images: readonly EvictionCandidate[]; disk: DiskPicture }): FitVerdict {
  const { facts, need, claims, rate } = input;
  if (claims.imageSizeBytes !== undefined && Math.abs(claims.imageSizeBytes - facts.compressedBytes) > SIZE_TOLERANCE(facts.compressedBytes)) {
    return { ok: false, need, reason: 'image-size-mismatch', detail: `Declined: the offer says the image is ${gb(claims.imageSizeBytes)} but its manifest says ${gb(facts.compressedBytes)} (${facts.compressedBytes} bytes).` };
  }
  if (claims.maxPullSeconds !== undefined && rate !== null && need.missingBytes / rate > claims.maxPullSeconds) {
    const seconds = Math.ceil(need.missingBytes / rate);
    return { ok: false, need, reason: 'pull-too-slow', detail: `Declined: ${gb(need.missingBytes)} to download at this machine's measured ${mbps(rate)} would take about ${seconds} s, more than the offer's maxPullSeconds (${claims.maxPullSeconds} s).` };
  }
  const plan = planFit(input.images, input.disk, need.diskBytes);
  if (plan.fits) return { ok: true, need, plan };
  const d = input.disk;
  const why = [
    plan.budgetShortBytes > 0 ? `the image budget (${gb(d.budgetBytes)}, ${gb(d.usedBytes - plan.freedBytes)} used after removing every unused image) is ${gb(plan.budgetShortBytes)} short` : null,
    plan.diskShortBytes > 0 ? `the disk would fall ${gb(plan.diskShortBytes)} below the ${gb(d.minFreeBytes)} kept free (${d.freeDiskBytes === null ? '?' : gb(d.freeDiskBytes)} free now)` : null,
  ].filter(Boolean);
  return { ok: false, need, reason: 'not-enough-disk', detail: `Declined before pulling: the image needs about ${gb(need.diskBytes)} on disk (${gb(need.missingBytes)} to download), but ${why.join(' and ')}.` };
}

export function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function mbps(rate: number): string {
  return `${(rate / 1e6).toFixed(1)} MB/s`;
}
