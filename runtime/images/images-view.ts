// What images.list shows of the image store: the budget's figures, each image, the pulls under
// way, the download rate, the last prune and the engine's problem, if any.
import type { EnginePicture } from './engine-picture.js';
import { availableBytes, type DiskPicture } from './eviction.js';
import type { ImagePull, ImageRecord, ImagesView, PruneResult } from './schema.js';
import type { Inflight } from './shared-pulls.js';

export function imagesView(v: {
  picture: EnginePicture | null;
  disk: DiskPicture;
  images: ImageRecord[];
  inflight: readonly Inflight[];
  downloadBytesPerSecond: number | null;
  lastPrune: PruneResult | null;
  problem: string | null;
}): Omit<ImagesView, 'effective' | 'locked' | 'user'> {
  const { picture, disk } = v;
  const pulls: ImagePull[] = v.inflight.map((p) => ({
    ref: p.ref,
    jobId: p.jobId,
    bytes: p.tick?.bytes ?? 0,
    totalBytes: p.tick?.totalBytes ?? null,
    bytesPerSecond: p.tick?.bytesPerSecond ?? null,
    etaSeconds: p.tick?.etaSeconds ?? null,
    startedAt: p.startedAt,
  }));
  return {
    usage: {
      usedBytes: disk.usedBytes,
      budgetBytes: disk.budgetBytes,
      freeDiskBytes: disk.freeDiskBytes === null ? null : Math.max(0, Math.floor(disk.freeDiskBytes)),
      diskTotalBytes: picture?.disk?.totalBytes ?? null,
      minFreeBytes: disk.minFreeBytes,
      availableBytes: Math.floor(availableBytes(disk)),
    },
    images: v.images,
    pulls,
    downloadBytesPerSecond: v.downloadBytesPerSecond,
    lastPrune: v.lastPrune,
    problem: v.problem,
  };
}
