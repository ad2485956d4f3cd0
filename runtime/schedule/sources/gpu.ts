/**
 * GPU temperature and the processes holding GPU memory, over the smallest interface of the GPU
 * service that this needs. Temperatures come from the telemetry samples (free: they are taken
 * anyway). The process list needs a full `list()` (nvidia-smi -q, not cheap), so it is polled
 * slowly (every 10 s), and at once (at most once a second) when the telemetry shows a GPU's
 * used memory grow by 256 MiB or more since the last list: a game or a render starting.
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
  onSamples?(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null; memoryUsedMiB?: number | null }>): void;
  start?(): void;
  stop?(): void;
}

export class PolledGpuSignalSource implements GpuSignalSource {
  readonly description = 'GPU service';
  private temps = new Map<number, number>();
  private procs: GpuProcessSignal[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private polling = false;
  private lastPollAt = 0;
  /** Used memory per GPU at the last list(), to notice a new program allocating. */
  private memoryAtPoll = new Map<number, number>();
  /** How many list() calls were made (tests). */
  polls = 0;

  constructor(
    private readonly gpu: GpuReadings,
    /** Whether a pid belongs to one of Offshift's own jobs. */
    private readonly isOwnJob: (pid: number) => boolean | Promise<boolean> = () => false,
    private readonly pollMs = 10_000,
    private readonly growthMiB = 256,
    private readonly minGapMs = 1000,
  ) {}

  temperatureC(): number | null {
    let max: number | null = null;
    for (const t of this.temps.values()) if (max === null || t > max) max = t;
    return max;
  }

  processes(): readonly GpuProcessSignal[] {
    return this.procs;
  }

  onSamples(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null; memoryUsedMiB?: number | null }>): void {
    let grew = false;
    for (const s of samples) {
      if (s.temperatureC === null) this.temps.delete(s.gpuIndex);
      else this.temps.set(s.gpuIndex, s.temperatureC);
      const base = this.memoryAtPoll.get(s.gpuIndex);
      if (typeof s.memoryUsedMiB === 'number') {
        if (base === undefined) this.memoryAtPoll.set(s.gpuIndex, s.memoryUsedMiB);
        else if (s.memoryUsedMiB - base >= this.growthMiB) grew = true;
        else if (s.memoryUsedMiB < base) this.memoryAtPoll.set(s.gpuIndex, s.memoryUsedMiB); // freed: a lower baseline
      }
    }
    if (grew && this.running && !this.polling) {
      const wait = Math.max(0, this.lastPollAt + this.minGapMs - Date.now());
      this.reschedule(wait);
    }
  }

  private reschedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), ms).unref();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    this.lastPollAt = Date.now();
    this.polls++;
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
      // The next telemetry sample of each GPU is the new baseline.
      this.memoryAtPoll.clear();
    } catch {
      // Keep the last reading; the GPU service reports its own trouble.
    } finally {
      this.polling = false;
      if (this.running) this.reschedule(this.pollMs);
    }
  }

  start(): void {
    this.running = true;
    this.reschedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
