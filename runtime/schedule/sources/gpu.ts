/**
 * GPU temperature and the processes holding GPU memory, over the smallest interface of the GPU
 * service that this needs. Temperatures come from the telemetry samples (free: they are taken
 * anyway). The process list needs a full `list()` (nvidia-smi -q, not cheap), so it is polled
 * slowly (every 10 s while work runs, every 60 s while the agent is idle: the loop says which
 * with `setBusy`), and at once (at most once a second) when the telemetry shows a GPU's used
 * memory grow by 256 MiB or more since the last list: a game or a render starting.
 *
 * Readings expire: a temperature older than `maxAgeMs` (20 s) is not a temperature. Once a GPU
 * has reported one, going without a fresh one (a dead or hung telemetry reader) is reported by
 * `temperatureUnknown()`, and the thermal rule fails safe on it (docs/availability.md).
 */
import type { GpuProcessSignal } from '../signals.js';

/** The part of runtime/gpu/service.ts the schedule depends on. */
export interface GpuReadings {
  list(): Promise<ReadonlyArray<{ temperatureC: number | null; processes: ReadonlyArray<{ pid: number; name: string; usedMemoryMiB: number | null }> }>>;
}

export interface GpuSignalSource {
  readonly description: string;
  /** The hottest GPU, °C, from fresh readings; null when unknown. */
  temperatureC(): number | null;
  /** Why the temperature of a GPU that reported one is unknown now (no fresh reading); null when all are fresh. */
  temperatureUnknown?(): string | null;
  processes(): readonly GpuProcessSignal[];
  /** Whether work runs (poll at the fast pace) or the agent is idle (poll slowly). */
  setBusy?(busy: boolean): void;
  /** Feed telemetry samples (one per GPU per reading). */
  onSamples?(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null; memoryUsedMiB?: number | null }>): void;
  start?(): void;
  stop?(): void;
}

export const DEFAULT_TEMPERATURE_MAX_AGE_MS = 20_000;

export class PolledGpuSignalSource implements GpuSignalSource {
  readonly description = 'GPU service';
  /** Each GPU's last temperature and when it was read (ms). */
  private temps = new Map<number, { c: number; at: number }>();
  private procs: GpuProcessSignal[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private polling = false;
  private lastPollAt = 0;
  /** Used memory per GPU at the last list(), to notice a new program allocating. */
  private memoryAtPoll = new Map<number, number>();
  /** How many list() calls were made (tests). */
  polls = 0;
  private busy = true;

  constructor(
    private readonly gpu: GpuReadings,
    /** Whether a pid belongs to one of Offshift's own jobs. */
    private readonly isOwnJob: (pid: number) => boolean | Promise<boolean> = () => false,
    private readonly pollMs = 10_000,
    private readonly growthMiB = 256,
    private readonly minGapMs = 1000,
    /** A reading older than this is not a temperature any more. */
    private readonly maxAgeMs = DEFAULT_TEMPERATURE_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
    /** The process list's pace while nothing runs. */
    private readonly idlePollMs = 60_000,
  ) {}

  setBusy(busy: boolean): void {
    if (busy === this.busy) return;
    this.busy = busy;
    // Work starts: a list older than the fast pace is refreshed now, then every pollMs.
    if (busy && this.running && !this.polling) this.reschedule(Math.max(0, this.lastPollAt + this.pollMs - Date.now()));
  }

  temperatureC(): number | null {
    const oldest = this.now() - this.maxAgeMs;
    let max: number | null = null;
    for (const t of this.temps.values()) if (t.at >= oldest && (max === null || t.c > max)) max = t.c;
    return max;
  }

  temperatureUnknown(): string | null {
    const now = this.now();
    for (const [index, t] of this.temps) {
      const age = now - t.at;
      if (age > this.maxAgeMs) return `no temperature from GPU ${index} for ${Math.round(age / 1000)} s (the telemetry reader is stopped or stuck)`;
    }
    return null;
  }

  processes(): readonly GpuProcessSignal[] {
    return this.procs;
  }

  onSamples(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null; memoryUsedMiB?: number | null }>): void {
    let grew = false;
    for (const s of samples) {
      if (s.temperatureC === null) this.temps.delete(s.gpuIndex);
      else this.temps.set(s.gpuIndex, { c: s.temperatureC, at: this.now() });
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
      const at = this.now();
      gpus.forEach((g, i) => {
        // The inventory's reading is fresh too: it stands in while telemetry is away.
        if (g.temperatureC !== null) this.temps.set(i, { c: g.temperatureC, at });
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
      if (this.running) this.reschedule(this.busy ? this.pollMs : Math.max(this.pollMs, this.idlePollMs));
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
