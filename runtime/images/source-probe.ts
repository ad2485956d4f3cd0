/**
 * A source's download rate, measured before the first large pull from it: the first bytes of the
 * image's largest missing layer are fetched into the blob cache (and kept there: a pull through
 * the cache resumes them), at most PROBE_BYTES or PROBE_MS. A source measured fast is then pulled
 * from by the engine directly from its very first pull (service.ts, fastSource), where the cache
 * would only add a second write and hash of every byte.
 */
import type { BlobCache, OpenBlob } from './blob-cache.js';

/** Enough to see a LAN's or this machine's rate past TCP's slow start, little enough to cost nothing on a slow link (it is kept). */
export const PROBE_BYTES = 32 * 1024 * 1024;
export const PROBE_MS = 2000;
/** Smaller pulls are not worth a probe: through the cache they cost little more. */
export const PROBE_MIN_MISSING_BYTES = 256 * 1024 * 1024;

/**
 * Bytes a second from the first byte to the last of the probe (the request's round trip is not
 * the link's rate); null when too little came to say (an error, a layer of a few bytes).
 */
export async function probeRate(cache: BlobCache, layer: { digest: string; sizeBytes: number }, open: OpenBlob, signal: AbortSignal, now: () => number = Date.now): Promise<number | null> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), PROBE_MS);
  let bytes = 0;
  let first: { at: number; bytes: number } | null = null;
  let lastAt = 0;
  try {
    await cache.fetch(
      layer,
      open,
      (delta) => {
        bytes += delta;
        lastAt = now();
        first ??= { at: lastAt, bytes };
        if (bytes >= PROBE_BYTES) stop.abort();
      },
      AbortSignal.any([signal, stop.signal]),
    );
  } catch {
    // Stopped on purpose (enough bytes, or time), or the source failed: what came says the rate, if enough did.
  } finally {
    clearTimeout(timer);
  }
  const start = first as { at: number; bytes: number } | null;
  if (!start || bytes - start.bytes < 1024 * 1024 || lastAt <= start.at) return null;
  return ((bytes - start.bytes) * 1000) / (lastAt - start.at);
}
