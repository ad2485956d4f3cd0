// Which way a pull goes: through the local relay and the blob cache (resumable layers), or the
// engine directly from a fast source (measured from the last pulls, or probed before the first).
import type { Logger } from '../log.js';
import type { BlobCache } from './blob-cache.js';
import { measuredRate, MIN_MEASURED_PULL_BYTES } from './download-rate.js';
import type { EnginePicture } from './engine-picture.js';
import type { ImageRef, ManifestFacts } from './registry.js';
import { PROBE_MIN_MISSING_BYTES, probeRate } from './source-probe.js';
import type { ImageStore } from './store.js';

/** Faster than this (800 Mbit/s: a LAN or this machine), a source is pulled from directly (fastSource). */
export const FAST_SOURCE_BYTES_PER_S = 100e6;

export class PullRoute {
  private relayUsable: boolean;

  constructor(
    private readonly store: ImageStore,
    private readonly cache: BlobCache,
    private readonly now: () => number,
    private readonly o: { log: Logger; relay?: boolean; probeMinMissingBytes?: number },
  ) {
    this.relayUsable = o.relay ?? process.platform === 'linux';
  }

  /** Whether this pull goes through the relay; a first large pull from a source measures it first. */
  async viaRelay(image: ImageRef, facts: ManifestFacts, picture: EnginePicture, missingBytes: number, signal: AbortSignal, host: string): Promise<boolean> {
    let viaRelay = this.relayUsable && !this.fastSource(host);
    if (viaRelay && !this.measured(host) && missingBytes >= (this.o.probeMinMissingBytes ?? PROBE_MIN_MISSING_BYTES)) viaRelay = !(await this.probedFast(image, facts, picture, signal, host));
    return viaRelay;
  }

  /** The engine cannot reach the relay (it is not on this machine's loopback): pulls go directly from now on. */
  relayUnreachable(): void {
    this.relayUsable = false;
  }

  /**
   * A registry this machine downloads from faster than FAST_SOURCE_BYTES_PER_S (a LAN mirror, a
   * registry on this machine): there the engine pulls directly. Its own pull is faster than one
   * through the blob cache (which writes and hashes each layer once more), and a cut pull costs
   * little to fetch again. Slower sources go through the cache, where resuming matters.
   */
  private fastSource(host: string): boolean {
    return (measuredRate(this.store.recentPullsFrom(host, MIN_MEASURED_PULL_BYTES, 5)) ?? 0) >= FAST_SOURCE_BYTES_PER_S;
  }

  private measured(host: string): boolean {
    return measuredRate(this.store.recentPullsFrom(host, MIN_MEASURED_PULL_BYTES, 5)) !== null;
  }

  /**
   * Before the first large pull from a source: its rate, on the first bytes of the largest layer
   * the engine lacks (source-probe.ts). Fast: true, and those bytes leave the cache (the engine
   * fetches the layer itself); slow: they stay, and the pull through the cache resumes them.
   */
  private async probedFast(image: ImageRef, facts: ManifestFacts, picture: EnginePicture, signal: AbortSignal, host: string): Promise<boolean> {
    const lacking = facts.layers.filter((l) => !picture.layers.has(l.diffId) && !this.cache.has(l.digest));
    const largest = lacking.reduce<(typeof lacking)[number] | null>((best, l) => (best === null || l.sizeBytes > best.sizeBytes ? l : best), null);
    if (!largest) return false;
    const rate = await probeRate(this.cache, largest, facts.openBlob, signal, this.now);
    const fast = rate !== null && rate >= FAST_SOURCE_BYTES_PER_S;
    if (fast) this.cache.remove(largest.digest);
    this.o.log.info('measured a source before its first large pull', { ref: image.ref, host, bytesPerSecond: rate === null ? null : Math.round(rate), via: fast ? 'engine' : 'relay' });
    return fast;
  }
}
