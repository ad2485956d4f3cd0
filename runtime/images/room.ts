// The image store's room: Offshift's disk use (its images and cached layers), the budget, the
// free-disk floor, and the room held for accepted offers and for the pulls under way.
import type { BlobCache } from './blob-cache.js';
import type { EnginePicture } from './engine-picture.js';
import type { DiskPicture } from './eviction.js';
import { usedBytes } from './records.js';
import type { ImageSettings } from './schema.js';
import type { SharedPulls } from './shared-pulls.js';
import type { ImageStore } from './store.js';

const GIB = 1024 ** 3;

export class ImageRoom {
  /** Room promised to accepted offers whose pull has not begun: ref → bytes and until when. */
  private readonly promised = new Map<string, { bytes: number; until: number }>();

  constructor(private readonly o: { store: ImageStore; cache: BlobCache; inflight: SharedPulls; settings: () => ImageSettings; now: () => number }) {}

  /** Holds an accepted offer's room until its pull begins, or `until`. */
  promise(ref: string, bytes: number, until: number): void {
    this.promised.set(ref, { bytes, until });
  }

  /** The pull began: its own reservation holds the room now. */
  release(ref: string): void {
    this.promised.delete(ref);
  }

  /** The disk as the budget sees it, with the engine's figures. */
  picture(picture: EnginePicture): DiskPicture {
    const now = this.o.now();
    let reserved = 0;
    for (const [ref, room] of this.promised) {
      if (room.until < now || this.o.inflight.has(ref)) this.promised.delete(ref);
      else reserved += room.bytes;
    }
    for (const p of this.o.inflight.all()) reserved += p.diskBytes;
    return { usedBytes: this.usedBytes(), budgetBytes: this.budgetBytes(), freeDiskBytes: picture.disk?.freeBytes ?? null, minFreeBytes: this.minFreeBytes(), reservedBytes: reserved };
  }

  /** The same without the engine (it did not answer): no free disk known, nothing reserved. */
  withoutEngine(): DiskPicture {
    return { usedBytes: this.usedBytes(), budgetBytes: this.budgetBytes(), freeDiskBytes: null, minFreeBytes: this.minFreeBytes(), reservedBytes: 0 };
  }

  private usedBytes(): number {
    return usedBytes(this.o.store.all(), this.o.cache.totalBytes());
  }

  private budgetBytes(): number {
    return Math.floor(this.o.settings().budgetGiB * GIB);
  }

  private minFreeBytes(): number {
    return Math.floor(this.o.settings().minFreeGiB * GIB);
  }
}
