/**
 * The providers kept ready for matching, so that a job looks at a handful of them rather than all:
 * the holders of each image digest, the providers that state an image budget by score tier, and all
 * of them by score tier. `pick` makes exactly the choice of a full scan (`pickProvider`).
 */
import type { JobRequest } from '../protocol/index.js';
import { hasRoomFor, jobImageDigest, WarmIndex } from './image-ranking.js';
import { pickFromBuckets, pickProvider, ScoreBuckets, type Candidate } from './matching.js';

type Market = { chainId: number; escrow: string };

export class ProviderRanking<C extends Candidate> {
  private readonly all = new ScoreBuckets<C>();
  /** Those whose advertisement has `images` (a free budget to compare with the job's image size). */
  private readonly budgeted = new ScoreBuckets<C>();
  private readonly warm = new WarmIndex<C>();

  /** After its advertisement or connection changed. */
  update(c: C): void {
    this.all.update(c);
    const listed = c.connected && c.ad !== null;
    if (listed && c.ad?.images) this.budgeted.update(c);
    else this.budgeted.remove(c);
    this.warm.update(c, listed);
  }

  remove(c: C): void {
    this.all.remove(c);
    this.budgeted.remove(c);
    this.warm.remove(c);
  }

  /**
   * The best provider for the job, skipping `exclude`: among the holders of its image; else among
   * those with room for it by its stated size; else among all. Each step's candidates that fit are
   * all of one image class (a better one that fit would have been taken a step before), so the
   * score buckets then decide as a full scan would.
   */
  pick(job: JobRequest, market: Market, exclude?: (c: C) => boolean): C | null {
    const skip = exclude as ((c: Candidate) => boolean) | undefined;
    const digest = jobImageDigest(job);
    if (digest !== null) {
      const warm = pickProvider(job, this.warm.of(digest), market, skip, false);
      if (warm) return warm as C;
    }
    const size = job.imageSizeBytes;
    if (size !== undefined) {
      const roomy = pickFromBuckets(job, this.budgeted.inOrder(), market, (c) => !hasRoomFor(c.ad, size) || (skip?.(c) ?? false));
      if (roomy) return roomy as C;
    }
    return pickFromBuckets(job, this.all.inOrder(), market, skip) as C | null;
  }
}
