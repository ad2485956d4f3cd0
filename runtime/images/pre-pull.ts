// Pre-pulls: the images the market says are in demand, the most requested first, pulled one at a
// time while downloads may run (a pre-pull never removes another image to make room).
import type { DemandedImage } from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { PullOutcome } from './pull.js';
import { parseImageRef, type ImageRef } from './registry.js';
import type { SharedPulls } from './shared-pulls.js';

export interface PrePullContext {
  log: Logger;
  /** Whether pre-pulls are on in the settings. */
  enabled: () => boolean;
  closed: () => boolean;
  mayDownload: () => boolean;
  inflight: SharedPulls;
  onEngine: (image: ImageRef) => Promise<string | null>;
  /** Starts (or joins) the image's pre-pull. */
  pull: (image: ImageRef) => Promise<PullOutcome>;
}

export async function prePullDemand(ctx: PrePullContext, demand: readonly DemandedImage[]): Promise<void> {
  if (!ctx.enabled() || ctx.closed()) return;
  for (const d of demand) {
    if (ctx.closed() || !ctx.mayDownload()) return;
    let image: ImageRef;
    try {
      image = parseImageRef(d.image);
    } catch {
      continue;
    }
    if (ctx.inflight.has(image.ref) || (await ctx.onEngine(image))) continue;
    try {
      await ctx.pull(image);
      ctx.log.info('pre-pulled an image the market wants', { ref: image.ref, requests: d.requests });
    } catch (error) {
      ctx.log.info('not pre-pulled', { ref: image.ref, why: (error as Error).message });
    }
  }
}
