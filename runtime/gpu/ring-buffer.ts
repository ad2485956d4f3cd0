import type { TelemetrySample } from './schema.js';

/** A fixed-size buffer per GPU: the newest `capacity` samples of each. */
export class TelemetryRing {
  private readonly perGpu = new Map<string, TelemetrySample[]>();

  constructor(readonly capacity: number) {}

  static keyOf(sample: TelemetrySample): string {
    return sample.uuid ?? `#${sample.gpuIndex}`;
  }

  push(samples: readonly TelemetrySample[]): void {
    for (const sample of samples) {
      const key = TelemetryRing.keyOf(sample);
      let ring = this.perGpu.get(key);
      if (!ring) this.perGpu.set(key, (ring = []));
      ring.push(sample);
      if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity);
    }
  }

  /** Samples newer than `sinceMs` (Unix ms), oldest first; all of them without it. */
  since(sinceMs?: number): TelemetrySample[] {
    const out: TelemetrySample[] = [];
    for (const ring of this.perGpu.values()) {
      for (const sample of ring) if (sinceMs === undefined || sample.t > sinceMs) out.push(sample);
    }
    return out.sort((a, b) => a.t - b.t || a.gpuIndex - b.gpuIndex);
  }

  clear(): void {
    this.perGpu.clear();
  }
}
