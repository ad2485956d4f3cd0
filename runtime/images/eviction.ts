/**
 * Which of Offshift's images to remove, pure: least recently used first, never a pinned one nor
 * one a running or queued job uses. Two questions: what must go for a pull of `needBytes` to
 * fit the budget and the free-disk floor (or why it cannot), and what goes when the store passes
 * its high watermark (down to the low one, as the kubelet's image collector does).
 */

export interface EvictionCandidate {
  ref: string;
  /** On disk, as the engine reports it. */
  sizeBytes: number;
  /** Last job start, else when it was pulled (ms; 0: never). */
  lastUsedAt: number;
  pinned: boolean;
  inUse: boolean;
}

export interface DiskPicture {
  /** Offshift's images on the engine, together. */
  usedBytes: number;
  budgetBytes: number;
  /** Free on the engine's disk (null: unknown, only the budget binds). */
  freeDiskBytes: number | null;
  minFreeBytes: number;
  /** Promised to pulls in progress and accepted offers, not yet on disk. */
  reservedBytes: number;
}

export type FitPlan =
  | { fits: true; remove: string[]; freedBytes: number }
  | { fits: false; remove: string[]; freedBytes: number; budgetShortBytes: number; diskShortBytes: number };

/** Watermarks of the budget: past HIGH the store is pruned down to LOW (the kubelet's defaults are 85% and 80%). */
export const HIGH_WATERMARK = 0.85;
export const LOW_WATERMARK = 0.8;

/** What may be pulled now without removing anything. */
export function availableBytes(d: DiskPicture): number {
  const byBudget = d.budgetBytes - d.usedBytes - d.reservedBytes;
  const byDisk = d.freeDiskBytes === null ? Number.POSITIVE_INFINITY : d.freeDiskBytes - d.reservedBytes - d.minFreeBytes;
  return Math.max(0, Math.min(byBudget, byDisk));
}

/** Removable images, the least recently used first. */
export function removalOrder(images: readonly EvictionCandidate[]): EvictionCandidate[] {
  return images.filter((i) => !i.pinned && !i.inUse).sort((a, b) => a.lastUsedAt - b.lastUsedAt || b.sizeBytes - a.sizeBytes);
}

/** What to remove so that `needBytes` more fit under the budget and above the floor. */
export function planFit(images: readonly EvictionCandidate[], d: DiskPicture, needBytes: number): FitPlan {
  const remove: string[] = [];
  let freed = 0;
  const short = () => ({
    budget: Math.max(0, d.usedBytes - freed + d.reservedBytes + needBytes - d.budgetBytes),
    disk: d.freeDiskBytes === null ? 0 : Math.max(0, d.minFreeBytes + d.reservedBytes + needBytes - (d.freeDiskBytes + freed)),
  });
  let s = short();
  for (const image of removalOrder(images)) {
    if (s.budget === 0 && s.disk === 0) break;
    remove.push(image.ref);
    freed += image.sizeBytes;
    s = short();
  }
  if (s.budget === 0 && s.disk === 0) return { fits: true, remove, freedBytes: freed };
  return { fits: false, remove, freedBytes: freed, budgetShortBytes: s.budget, diskShortBytes: s.disk };
}

/** What a periodic prune removes: nothing below the high watermark; past it, down to the low one (and back above the floor). */
export function planWatermarkPrune(images: readonly EvictionCandidate[], d: DiskPicture): string[] {
  const overHigh = d.usedBytes > d.budgetBytes * HIGH_WATERMARK;
  const underFloor = d.freeDiskBytes !== null && d.freeDiskBytes < d.minFreeBytes;
  if (!overHigh && !underFloor) return [];
  const remove: string[] = [];
  let used = d.usedBytes;
  let free = d.freeDiskBytes;
  for (const image of removalOrder(images)) {
    const done = used <= d.budgetBytes * LOW_WATERMARK && (free === null || free >= d.minFreeBytes);
    if (done) break;
    remove.push(image.ref);
    used -= image.sizeBytes;
    if (free !== null) free += image.sizeBytes;
  }
  return remove;
}
