/**
 * The dashboard's telemetry history: per GPU, the samples of the last few minutes, oldest first.
 * Pure functions over plain data, so the store stays a thin shell and this is unit-tested.
 */
import type { TelemetrySample } from '../../../runtime/gpu/schema.js';

/** How much history the dashboard keeps (and the longest chart range it offers). */
export const TELEMETRY_WINDOW_MS = 5 * 60_000;
/** A hard bound per GPU whatever the sampling rate (5 min at 4 samples a second). */
export const MAX_SAMPLES_PER_GPU = 1200;

/** Samples per GPU index, oldest first. */
export type TelemetryHistory = Readonly<Record<number, readonly TelemetrySample[]>>;

/**
 * Adds new samples (from the initial `gpu.telemetry` call or a `gpu.telemetry` event) and drops
 * what fell out of the window (measured from each GPU's newest sample). A sample whose timestamp
 * is already held is a duplicate (the initial call and the first events overlap) and is ignored.
 * GPUs whose history did not change keep the same array, so React re-renders only what changed.
 */
export function appendSamples(
  history: TelemetryHistory,
  samples: readonly TelemetrySample[],
  windowMs: number = TELEMETRY_WINDOW_MS,
  maxPerGpu: number = MAX_SAMPLES_PER_GPU,
): TelemetryHistory {
  if (samples.length === 0) return history;
  const byGpu = new Map<number, TelemetrySample[]>();
  for (const sample of samples) {
    if (!Number.isFinite(sample.t)) continue;
    const list = byGpu.get(sample.gpuIndex) ?? [];
    list.push(sample);
    byGpu.set(sample.gpuIndex, list);
  }
  if (byGpu.size === 0) return history;
  const next: Record<number, readonly TelemetrySample[]> = { ...history };
  let changed = false;
  for (const [gpuIndex, incoming] of byGpu) {
    const existing = history[gpuIndex] ?? [];
    const merged = mergeByTime(existing, incoming);
    if (merged === existing) continue;
    const newest = merged[merged.length - 1]!.t;
    next[gpuIndex] = trimWindow(merged, newest - windowMs, maxPerGpu);
    changed = true;
  }
  return changed ? next : history;
}

/**
 * Merges new samples into a GPU's history, oldest first, one sample per timestamp. The usual case
 * (every new sample is newer) appends; an out-of-order batch (the initial `gpu.telemetry` answer
 * arriving after the first events) is merged. Returns `existing` itself when nothing was added.
 */
export function mergeByTime(existing: readonly TelemetrySample[], incoming: readonly TelemetrySample[]): readonly TelemetrySample[] {
  const sorted = incoming.slice().sort((a, b) => a.t - b.t);
  const lastT = existing.length > 0 ? existing[existing.length - 1]!.t : -Infinity;
  if (sorted.length > 0 && sorted[0]!.t > lastT) return dedupeSorted(existing.concat(sorted));
  const seen = new Set(existing.map((s) => s.t));
  const fresh = sorted.filter((s) => !seen.has(s.t));
  if (fresh.length === 0) return existing;
  return dedupeSorted(existing.concat(fresh).sort((a, b) => a.t - b.t));
}

function dedupeSorted(samples: TelemetrySample[]): TelemetrySample[] {
  return samples.filter((s, i) => i === 0 || s.t !== samples[i - 1]!.t);
}

/** Keeps the samples at or after `fromT`, and at most `max` of the newest. */
export function trimWindow(samples: readonly TelemetrySample[], fromT: number, max: number): TelemetrySample[] {
  let start = 0;
  while (start < samples.length && samples[start]!.t < fromT) start++;
  start = Math.max(start, samples.length - max);
  return samples.slice(start);
}

/** The newest sample of a GPU, or null before the first one. */
export function latestSample(history: TelemetryHistory, gpuIndex: number): TelemetrySample | null {
  const list = history[gpuIndex];
  return list && list.length > 0 ? list[list.length - 1]! : null;
}

/** The newest sample time across every GPU (the charts' "now"), or null. */
export function newestTime(history: TelemetryHistory): number | null {
  let newest: number | null = null;
  for (const list of Object.values(history)) {
    const last = list[list.length - 1];
    if (last && (newest === null || last.t > newest)) newest = last.t;
  }
  return newest;
}
