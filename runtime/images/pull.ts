/**
 * One image pull through the engine, by digest, from the mirror the manifest was read from (or
 * the origin when the mirror fails mid-pull), with its progress in bytes of what was missing,
 * its rate and ETA. Afterwards the engine must hold that very digest and the manifest's layers.
 * A pull cut short (the signal) keeps the layers the engine finished.
 */
import { AppError } from '../errors.js';
import { inspectImage, pullImage, type Engine } from '../engine/index.js';
import { PullProgress } from '../sandbox/pull-progress.js';
import { etaSeconds, RateWindow } from './download-rate.js';
import type { ImageRef, ManifestFacts } from './registry.js';

export interface PullTick {
  bytes: number;
  totalBytes: number | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  fraction: number | null;
  detail: string;
}

export interface PullOutcome {
  imageId: string;
  sizeBytes: number;
  /** Compressed bytes the engine fetched (what the registry served for this pull). */
  fetchedBytes: number;
  seconds: number;
  source: 'origin' | 'mirror';
}

export interface PullRequest {
  image: ImageRef;
  facts: ManifestFacts;
  /** Compressed bytes of the layers the engine lacks (the progress's total). */
  missingBytes: number;
  onTick: (tick: PullTick) => void;
  signal?: AbortSignal;
  now: () => number;
}

/** Pulls the image and verifies it; throws AppError `image-pull-failed`, `image-pull-stopped` or `image-digest-mismatch`. */
export async function pullVerified(docker: Engine, r: PullRequest): Promise<PullOutcome> {
  const started = r.now();
  const sources: Array<{ ref: string; source: 'origin' | 'mirror' }> = [{ ref: r.facts.pullRef, source: r.facts.source }];
  if (r.facts.source === 'mirror') sources.push({ ref: r.image.ref, source: 'origin' });
  let fetchedBefore = 0;
  let lastError: unknown = null;
  for (const { ref, source } of sources) {
    const progress = new PullProgress();
    const window = new RateWindow();
    let fetched = 0;
    try {
      await pullImage(
        docker,
        ref,
        (event) => {
          const summary = progress.update(event);
          if (!summary) return;
          fetched = summary.downloadedBytes;
          const bytes = fetchedBefore + fetched;
          const at = r.now();
          window.add(at, bytes);
          const total = Math.max(r.missingBytes, bytes);
          const rate = window.rate();
          r.onTick({ bytes, totalBytes: total, bytesPerSecond: rate, etaSeconds: etaSeconds(bytes, total, rate), fraction: total > 0 ? Math.min(1, bytes / total) : summary.fraction, detail: describe(bytes, total, rate) });
        },
        r.signal,
      );
    } catch (error) {
      if (r.signal?.aborted) throw new AppError('image-pull-stopped', `The pull of ${r.image.ref} was stopped after ${mb(fetchedBefore + fetched)} MB; the layers it finished are kept, and the next pull fetches only the rest.`);
      fetchedBefore += fetched;
      lastError = error;
      continue;
    }
    const info = await inspectImage(docker, ref);
    if (!info) throw new AppError('image-pull-failed', `The engine pulled ${ref} but does not list it. Try again; if it persists, check the engine's disk (docker system df).`);
    // The engine checked the manifest's bytes against the digest it pulled by; its layers must be the manifest's.
    const digests = info.RepoDigests ?? [];
    const carries = digests.some((d) => d.endsWith(`@${r.facts.digest}`));
    const layers = info.RootFS?.Layers ?? [];
    const expected = r.facts.layers.map((l) => l.diffId);
    if (!carries || layers.length !== expected.length || layers.some((l, i) => l !== expected[i])) {
      throw new AppError('image-digest-mismatch', `The engine's image for ${ref} is not the one the manifest ${r.facts.digest} names (${digests.join(', ') || 'no digest'}); refusing to run it. The registry${source === 'mirror' ? ' mirror' : ''} may be serving other content under this digest.`);
    }
    return { imageId: info.Id, sizeBytes: info.Size ?? 0, fetchedBytes: fetchedBefore + fetched, seconds: (r.now() - started) / 1000, source };
  }
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  throw new AppError('image-pull-failed', `Could not pull ${r.image.ref}: ${message}. Check the network and that the registry${r.facts.source === 'mirror' ? ' (and the mirror)' : ''} answers; the layers already fetched are kept.`);
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** "Pulling the image: 1,234.5 of 4,800.0 MB · 38.2 MB/s · about 93 s left". */
export function describe(bytes: number, total: number | null, rate: number | null): string {
  const of = total ? `${mb(bytes)} of ${mb(total)} MB` : `${mb(bytes)} MB`;
  const speed = rate === null ? '' : ` · ${mb(rate)} MB/s`;
  const eta = etaSeconds(bytes, total, rate);
  return `Pulling the image: ${of}${speed}${eta === null ? '' : ` · about ${Math.ceil(eta)} s left`}`;
}
