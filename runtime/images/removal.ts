// Removing Offshift's images from the engine (to make room, by the watermarks, or by hand) and
// the cached layers of pulls that never finished.
import { removeImage, type Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { BlobCache } from './blob-cache.js';
import type { PruneResult } from './schema.js';
import type { SharedPulls } from './shared-pulls.js';
import type { ImageStore } from './store.js';

/** Removes each image from the engine and its record; one that cannot be removed stays, with a warning. */
export async function removeImages(ctx: { docker: Engine; log: Logger; store: ImageStore; now: () => number }, refs: string[], trigger: PruneResult['trigger']): Promise<PruneResult> {
  const removed: PruneResult['removed'] = [];
  for (const ref of refs) {
    const row = ctx.store.get(ref);
    if (!row?.image_id) continue;
    try {
      await removeImage(ctx.docker, row.image_id);
      removed.push({ ref, sizeBytes: row.size_bytes });
      ctx.store.remove(ref);
    } catch (error) {
      ctx.log.warn('an image could not be removed', { ref, error: (error as Error).message });
    }
  }
  const result: PruneResult = { at: ctx.now(), trigger, removed, freedBytes: removed.reduce((s, r) => s + r.sizeBytes, 0) };
  if (removed.length) ctx.log.info('images removed', { trigger, count: removed.length, freedBytes: result.freedBytes });
  return result;
}

/** Layers left in the cache by pulls no longer in progress, untouched for `olderThanMs`. */
export function dropCachedBlobs(cache: BlobCache, inflight: SharedPulls, now: () => number, olderThanMs: number): void {
  if (inflight.all().length > 0) return;
  for (const e of cache.entries()) if (now() - e.modifiedAt >= olderThanMs) cache.remove(e.digest);
}
