/**
 * One image pull, by digest, with its progress in bytes of what was missing, its rate and ETA.
 * Through the local relay (relay.ts) when the engine can reach it: Offshift downloads the layers
 * into its blob cache (resumable, verified) and the engine pulls them from there, so a pull cut
 * short loses nothing it finished. Directly from the registry otherwise (an engine on another
 * machine or in a VM cannot reach this machine's loopback). Either way the engine must then hold
 * that very digest and the manifest's layers.
 */
import { AppError } from '../errors.js';
import { inspectImage, pullImage, type Engine } from '../engine/index.js';
import { PullProgress } from '../sandbox/pull-progress.js';
import type { BlobCache } from './blob-cache.js';
import { etaSeconds, RateWindow } from './download-rate.js';
import { pullLine } from './figures.js';
import type { ImageRef, ManifestFacts } from './registry.js';
import type { PullRelay } from './relay.js';

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
  /** Compressed bytes fetched from the registry by this pull. */
  fetchedBytes: number;
  seconds: number;
  /** How long the download itself took (through the relay: until the last byte reached the cache; directly: the whole pull). */
  downloadSeconds: number;
  source: 'origin' | 'mirror';
  via: 'relay' | 'engine';
}

export interface PullRequest {
  image: ImageRef;
  facts: ManifestFacts;
  /** Compressed bytes still to download (the progress's total). */
  missingBytes: number;
  onTick: (tick: PullTick) => void;
  signal: AbortSignal;
  now: () => number;
  /** The relay and its cache; null: pull through the engine directly. */
  relay: { relay: PullRelay; cache: BlobCache } | null;
}

/** The engine could not reach the relay: this engine is not on this machine's loopback. */
export class RelayUnreachable extends Error {}

export async function pullVerified(docker: Engine, r: PullRequest): Promise<PullOutcome> {
  const started = r.now();
  const progress = progressOf(r);
  if (r.relay) {
    const host = await r.relay.relay.host();
    const ref = `${host}/${r.image.repository}@${r.facts.digest}`;
    const stop = new AbortController();
    let failure: Error | null = null;
    const unregister = r.relay.relay.register({
      repository: r.image.repository,
      documents: r.facts.documents,
      layers: new Map(r.facts.layers.map((l) => [l.digest, { digest: l.digest, sizeBytes: l.sizeBytes }])),
      open: r.facts.openBlob,
      onBytes: (delta) => progress.add(delta),
      onFailure: (error) => {
        failure ??= error;
        stop.abort();
      },
      signal: r.signal,
    });
    const cache = r.relay.cache;
    try {
      // A layer the engine has unpacked is no longer needed in the cache.
      await enginePull(docker, ref, { ...r, signal: AbortSignal.any([r.signal, stop.signal]) }, (event) => {
        if (event.status !== 'Pull complete' || !event.id) return;
        const layer = r.facts.layers.find((l) => l.digest.slice(7, 7 + event.id!.length) === event.id);
        if (layer) cache.remove(layer.digest);
      });
    } catch (error) {
      if (failure) throw failure;
      if (!r.signal.aborted && /connection refused|no such host|dial tcp/i.test((error as Error).message) && (error as Error).message.includes(host)) throw new RelayUnreachable((error as Error).message);
      throw error;
    } finally {
      unregister();
    }
    for (const l of r.facts.layers) cache.remove(l.digest);
    const seconds = (r.now() - started) / 1000;
    const downloadSeconds = progress.completedAt() === null ? seconds : (progress.completedAt()! - started) / 1000;
    return { ...(await verifyPulled(docker, ref, r.facts)), fetchedBytes: progress.bytes(), seconds, downloadSeconds, source: r.facts.source, via: 'relay' };
  }
  const layers = new PullProgress();
  await enginePull(docker, r.facts.pullRef, r, (event) => {
    const summary = layers.update(event);
    if (summary) progress.set(summary.downloadedBytes);
  });
  const seconds = (r.now() - started) / 1000;
  return { ...(await verifyPulled(docker, r.facts.pullRef, r.facts)), fetchedBytes: progress.bytes(), seconds, downloadSeconds: seconds, source: r.facts.source, via: 'engine' };
}

async function enginePull(docker: Engine, ref: string, r: PullRequest, onEvent: Parameters<typeof pullImage>[2]): Promise<void> {
  try {
    await pullImage(docker, ref, onEvent, r.signal);
  } catch (error) {
    if (r.signal.aborted) throw new AppError('image-pull-stopped', `The pull of ${r.image.ref} was stopped; the layers already downloaded are kept, and the next pull fetches only the rest.`);
    if (error instanceof AppError) throw error;
    throw new AppError('image-pull-failed', `Could not pull ${r.image.ref}: ${(error as Error).message}. Check the network and that the registry${r.facts.source === 'mirror' ? ' (and the mirror)' : ''} answers; what was downloaded is kept.`);
  }
}

/** The engine checked the manifest's bytes against the digest it pulled by; its layers must be the manifest's. */
async function verifyPulled(docker: Engine, ref: string, facts: ManifestFacts): Promise<{ imageId: string; sizeBytes: number }> {
  const info = await inspectImage(docker, ref);
  if (!info) throw new AppError('image-pull-failed', `The engine pulled ${ref} but does not list it. Try again; if it persists, check the engine's disk (docker system df).`);
  const digests = info.RepoDigests ?? [];
  const layers = info.RootFS?.Layers ?? [];
  const expected = facts.layers.map((l) => l.diffId);
  if (!digests.some((d) => d.endsWith(`@${facts.digest}`)) || layers.length !== expected.length || layers.some((l, i) => l !== expected[i])) {
    throw new AppError('image-digest-mismatch', `The engine's image for ${ref} is not the one the manifest ${facts.digest} names (${digests.join(', ') || 'no digest'}); refusing to run it.`);
  }
  return { imageId: info.Id, sizeBytes: info.Size ?? 0 };
}

/** Bytes fetched so far, the rate over the last seconds and the ETA, told as ticks. */
function progressOf(r: PullRequest) {
  const window = new RateWindow();
  let bytes = 0;
  let toldAt = 0;
  let completedAt: number | null = null;
  const tell = () => {
    if (completedAt === null && bytes >= r.missingBytes) completedAt = r.now();
    const at = r.now();
    // A tick per chunk would be thousands a second: ten are plenty (the last one always goes out).
    if (at - toldAt < 100 && bytes < r.missingBytes) return;
    toldAt = at;
    window.add(at, bytes);
    const total = Math.max(r.missingBytes, bytes);
    const rate = window.rate();
    r.onTick({ bytes, totalBytes: total, bytesPerSecond: rate, etaSeconds: etaSeconds(bytes, total, rate), fraction: total > 0 ? Math.min(1, bytes / total) : 1, detail: describe(bytes, total, rate) });
  };
  return {
    add: (delta: number) => {
      bytes += delta;
      tell();
    },
    set: (value: number) => {
      bytes = value;
      tell();
    },
    bytes: () => bytes,
    /** When the last missing byte came (null: not yet). */
    completedAt: () => completedAt,
  };
}

/** "Pulling the image: 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left" (figures.ts: the CLI and the dashboard say the same). */
export function describe(bytes: number, total: number | null, rate: number | null): string {
  return pullLine({ bytes, totalBytes: total, bytesPerSecond: rate, etaSeconds: etaSeconds(bytes, total, rate) });
}
