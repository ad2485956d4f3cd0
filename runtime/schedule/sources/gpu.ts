/**
 * GPU temperature and the processes holding GPU memory, over the smallest interface of the GPU
 * service that this needs. Temperatures come from the telemetry samples (free: they are taken
 * anyway); the process list from a `list()` poll every few seconds (nvidia-smi is not cheap).
 */
import type { GpuProcessSignal } from '../signals.js';

/** The part of runtime/gpu/service.ts the schedule depends on. */
export interface GpuReadings {
  list(): Promise<ReadonlyArray<{ temperatureC: number | null; processes: ReadonlyArray<{ pid: number; name: string; usedMemoryMiB: number | null }> }>>;
}

export interface GpuSignalSource {
  readonly description: string;
  /** The hottest GPU, °C; null when unknown. */
  temperatureC(): number | null;
  processes(): readonly GpuProcessSignal[];
  /** Feed telemetry samples (one per GPU per reading). */
  onSamples?(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null }>): void;
  start?(): void;
  stop?(): void;
}

export class PolledGpuSignalSource implements GpuSignalSource {
  readonly description = 'GPU service';
  private temps = new Map<number, number>();
  private procs: GpuProcessSignal[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly gpu: GpuReadings,
    /** Whether a pid belongs to one of Offshift's own jobs. */
    private readonly isOwnJob: (pid: number) => boolean | Promise<boolean> = () => false,
    private readonly pollMs = 3000,
  ) {}

  temperatureC(): number | null {
    let max: number | null = null;
    for (const t of this.temps.values()) if (max === null || t > max) max = t;
    return max;
  }

  processes(): readonly GpuProcessSignal[] {
    return this.procs;
  }

  onSamples(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null }>): void {
    for (const s of samples) {
      if (s.temperatureC === null) this.temps.delete(s.gpuIndex);
      else this.temps.set(s.gpuIndex, s.temperatureC);
    }
  }

  start(): void {
    const tick = async () => {
      try {
        const gpus = await this.gpu.list();
        const procs: GpuProcessSignal[] = [];
        gpus.forEach((g, i) => {
          if (g.temperatureC !== null && !this.temps.has(i)) this.temps.set(i, g.temperatureC);
        });
        for (const g of gpus) {
          for (const p of g.processes) procs.push({ pid: p.pid, name: p.name, usedMemoryMiB: p.usedMemoryMiB, ownJob: await this.isOwnJob(p.pid) });
        }
        this.procs = procs;
      } catch {
        // Keep the last reading; the GPU service reports its own trouble.
      }
      if (this.timer !== null) this.timer = setTimeout(() => void tick(), this.pollMs).unref();
    };
    this.timer = setTimeout(() => void tick(), 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
