// Offshift's image records beside the engine's images: an image's engine id when the engine
// holds it, and the records brought in line with what the engine holds now.
import { inspectImage, type Engine, type EngineImage } from '../engine/index.js';
import type { Logger } from '../log.js';
import { reconcile } from './records.js';
import type { ImageRef } from './registry.js';
import type { ImageStore } from './store.js';

/** The engine's id for the image when it holds it: Offshift's (pulled through the relay, under the relay's name) or the owner's. */
export async function imageOnEngine(docker: Engine, store: ImageStore, image: ImageRef): Promise<string | null> {
  const row = store.get(image.ref);
  for (const name of [row?.image_id, image.ref]) {
    if (!name) continue;
    const info = await inspectImage(docker, name).catch(() => null);
    if (info && (info.RepoDigests ?? []).some((d) => d.endsWith(`@${image.digest}`))) return info.Id;
  }
  return null;
}

/** Records of images removed by someone are gone, resized ones updated, and ones someone tagged are theirs now. */
export function reconcileRecords(store: ImageStore, log: Logger, now: () => number, images: readonly EngineImage[]): void {
  for (const r of reconcile(store.all(), images)) {
    if (r.action === 'gone') store.gone(r.ref);
    else if (r.action === 'resized') store.pulled(r.ref, r.imageId, r.sizeBytes, r.pulledAt ?? now());
    else {
      log.info('an image Offshift pulled was tagged by someone else; it is theirs now and Offshift no longer removes it', { ref: r.ref, tags: r.tags });
      store.remove(r.ref);
    }
  }
}
