/**
 * Usage metering, pure: wall time, run time (pauses excluded), GPU-seconds per assigned GPU and,
 * for NVIDIA, utilisation and energy from the telemetry samples taken while the job ran.
 */
import type { TelemetrySample } from '../gpu/schema.js';
import type { JobUsage } from './schema.js';

interface GpuAccumulator {
  utilSum: number;
  utilCount: number;
  energyJ: number;
  powerSeen: boolean;
  lastPowerAt: number | null;
  lastPowerW: number | null;
  samples: number;
}

export class UsageMeter {
  private runningSince: number | null = null;
  private runMs = 0;
  private readonly gpus = new Map<string, GpuAccumulator>();

  constructor(
    private readonly startedAt: number,
    gpuKeys: readonly string[],
  ) {
    for (const key of gpuKeys) {
      this.gpus.set(key, { utilSum: 0, utilCount: 0, energyJ: 0, powerSeen: false, lastPowerAt: null, lastPowerW: null, samples: 0 });
    }
  }

  /** Rebuild a meter for a re-adopted job: the time it already ran counts. */
  static resume(startedAt: number, gpuKeys: readonly string[], ranMs: number, now: number): UsageMeter {
    const meter = new UsageMeter(startedAt, gpuKeys);
    meter.runMs = ranMs;
    meter.runningSince = now;
    return meter;
  }

  running(now: number): void {
    if (this.runningSince === null) this.runningSince = now;
  }

  paused(now: number): void {
    if (this.runningSince !== null) this.runMs += Math.max(0, now - this.runningSince);
    this.runningSince = null;
    for (const g of this.gpus.values()) g.lastPowerAt = null;
  }

  /** Feed telemetry; samples of other GPUs, or taken while paused, are ignored. */
  sample(s: TelemetrySample): void {
    if (this.runningSince === null || s.uuid === null) return;
    const g = this.gpus.get(s.uuid);
    if (!g) return;
    g.samples++;
    if (s.utilizationPct !== null) {
      g.utilSum += s.utilizationPct;
      g.utilCount++;
    }
    if (s.powerDrawW !== null) {
      if (g.lastPowerAt !== null && g.lastPowerW !== null && s.t > g.lastPowerAt) {
        // Trapezoid between consecutive readings.
        g.energyJ += ((g.lastPowerW + s.powerDrawW) / 2) * ((s.t - g.lastPowerAt) / 1000);
      }
      g.powerSeen = true;
      g.lastPowerAt = s.t;
      g.lastPowerW = s.powerDrawW;
    }
  }

  ranMs(now: number): number {
    return this.runMs + (this.runningSince === null ? 0 : Math.max(0, now - this.runningSince));
  }

  finish(now: number): JobUsage {
    const runMs = this.ranMs(now);
    return {
      wallMs: Math.max(0, now - this.startedAt),
      runMs,
      gpus: [...this.gpus.entries()].map(([gpuKey, g]) => ({
        gpuKey,
        seconds: runMs / 1000,
        avgUtilizationPct: g.utilCount ? g.utilSum / g.utilCount : null,
        energyJ: g.powerSeen ? Math.round(g.energyJ * 1000) / 1000 : null,
        samples: g.samples,
      })),
    };
  }
}
