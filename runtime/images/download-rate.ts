/**
 * Download rates, pure: the rate a pull runs at now (a sliding window over its byte counts, for
 * progress and ETA), and the rate this machine measured over its recent pulls (for deciding
 * whether a pull fits an offer's `maxPullSeconds`).
 */
import type { PullSample } from './store.js';

/** Bytes over the last few seconds of one pull. */
export class RateWindow {
  private readonly points: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 5000) {}

  add(at: number, bytes: number): void {
    this.points.push({ at, bytes });
    while (this.points.length > 2 && this.points[0]!.at < at - this.windowMs) this.points.shift();
  }

  /** Bytes a second over the window; null until it spans half a second. */
  rate(): number | null {
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    if (!first || !last || last.at - first.at < 500) return null;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.at - first.at));
  }
}

export function etaSeconds(bytes: number, totalBytes: number | null, bytesPerSecond: number | null): number | null {
  if (totalBytes === null || bytesPerSecond === null || bytesPerSecond <= 0) return null;
  return Math.max(0, (totalBytes - bytes) / bytesPerSecond);
}

/** Pulls smaller than this say more about round trips than about the link: not measured. */
export const MIN_MEASURED_PULL_BYTES = 8 * 1024 * 1024;

/** This machine's download rate over its recent pulls (bytes-weighted); null when none was measured. */
export function measuredRate(samples: readonly PullSample[]): number | null {
  const bytes = samples.reduce((sum, s) => sum + s.bytes, 0);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  return samples.length && seconds > 0 ? bytes / seconds : null;
}
