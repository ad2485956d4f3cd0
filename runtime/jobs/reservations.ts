/**
 * What this machine has committed to jobs: one reservation per job (or accepted offer) of a
 * slot, GPUs, CPUs, memory and disk, held from the moment the job is taken (a marketplace offer
 * accepted, a local job admitted) until it ends. A reservation is taken synchronously, with no
 * await between the check and the take, so two decisions can never both see the same free slot:
 * whatever a market sends, what is held never exceeds the machine's capacity.
 *
 * Slots and disk bound marketplace work (`kind: 'offer'`); the owner's own jobs (`'local'`)
 * count against them but are only refused for GPUs, CPUs and memory (their "disk" is a tmpfs in
 * memory, and a slot is the market's notion of how many jobs the owner leases at once).
 */
import type { Gpu } from '../gpu/schema.js';
import { gpuKey } from '../sandbox/gpu-assign.js';

/** Memory kept for the owner's own use, never given to jobs. */
export const RESERVED_MEMORY_MIB = 1024;
const LEASABLE = new Set(['nvidia', 'amd']);

/** Everything this machine gives jobs, all together. */
export interface Capacity {
  /** Jobs at once: one per leasable GPU; a machine without one takes one job at a time. */
  slots: number;
  /** Leasable GPUs in service, with their VRAM (null: unknown). */
  gpus: Array<{ key: string; vramMiB: number | null }>;
  cpus: number;
  memoryMiB: number;
  /** Free on the data folder's file system now. */
  diskMiB: number;
}

/** What is left for a new job: the capacity less every reservation held. */
export interface FreeResources {
  gpus: Array<{ key: string; vramMiB: number | null }>;
  cpus: number;
  memoryMiB: number;
  diskMiB: number;
  slots: number;
}

export type ReservationKind = 'offer' | 'local';

export interface Need {
  kind: ReservationKind;
  /** A count (any free GPUs with at least `minVramMiB`) or the exact GPUs (a job the runner already assigned). */
  gpus: number | readonly string[];
  minVramMiB?: number;
  cpus: number;
  memoryMiB: number;
  diskMiB: number;
}

export interface Held {
  id: string;
  kind: ReservationKind;
  gpuKeys: string[];
  cpus: number;
  memoryMiB: number;
  diskMiB: number;
}

export type Resource = 'slots' | 'gpus' | 'vram' | 'cpus' | 'memory' | 'disk';
/** Why a need does not fit: the first resource short, what was asked and what is free. */
export interface Shortfall {
  resource: Resource;
  need: number;
  free: number;
}

export type TakeResult = { ok: true; held: Held } | { ok: false; shortfall: Shortfall };

export function capacityOf(f: { gpus: readonly Gpu[]; outOfService: ReadonlySet<string>; cpus: number; totalMemoryMiB: number; freeDiskMiB: number }): Capacity {
  const leasable = f.gpus.filter((g) => LEASABLE.has(g.vendor));
  return {
    slots: Math.max(1, leasable.length),
    gpus: leasable.filter((g) => !f.outOfService.has(gpuKey(g))).map((g) => ({ key: gpuKey(g), vramMiB: g.memoryTotalMiB })),
    cpus: f.cpus,
    memoryMiB: Math.max(0, f.totalMemoryMiB - RESERVED_MEMORY_MIB),
    diskMiB: Math.max(0, f.freeDiskMiB),
  };
}

/** CPUs are fractional (0.5): sums are kept in thousandths so that ten 0.1s make exactly 1. */
const milli = (n: number) => Math.round(n * 1000);
const sum = (held: readonly Held[], pick: (h: Held) => number) => held.reduce((n, h) => n + pick(h), 0);

export function freeOf(capacity: Capacity, held: readonly Held[]): FreeResources {
  const busy = new Set(held.flatMap((h) => h.gpuKeys));
  return {
    gpus: capacity.gpus.filter((g) => !busy.has(g.key)),
    cpus: Math.max(0, milli(capacity.cpus) - sum(held, (h) => milli(h.cpus))) / 1000,
    memoryMiB: Math.max(0, capacity.memoryMiB - sum(held, (h) => h.memoryMiB)),
    diskMiB: Math.max(0, capacity.diskMiB - sum(held, (h) => h.diskMiB)),
    slots: Math.max(0, capacity.slots - held.length),
  };
}

/** The GPUs a need gets from what is free, or the shortfall. Pure. */
function fit(need: Need, free: FreeResources): { ok: true; gpuKeys: string[] } | { ok: false; shortfall: Shortfall } {
  const short = (resource: Resource, n: number, f: number) => ({ ok: false as const, shortfall: { resource, need: n, free: f } });
  if (need.kind === 'offer' && free.slots < 1) return short('slots', 1, free.slots);
  let gpuKeys: string[];
  if (typeof need.gpus === 'number') {
    if (need.gpus > free.gpus.length) return short('gpus', need.gpus, free.gpus.length);
    const min = need.minVramMiB ?? 0;
    const big = need.gpus > 0 && min > 0 ? free.gpus.filter((g) => g.vramMiB !== null && g.vramMiB >= min) : free.gpus;
    if (need.gpus > big.length) return short('vram', need.gpus, big.length);
    gpuKeys = big.slice(0, need.gpus).map((g) => g.key);
  } else {
    const freeKeys = new Set(free.gpus.map((g) => g.key));
    const missing = need.gpus.filter((k) => !freeKeys.has(k));
    if (missing.length) return short('gpus', need.gpus.length, need.gpus.length - missing.length);
    gpuKeys = [...need.gpus];
  }
  if (milli(need.cpus) > milli(free.cpus)) return short('cpus', need.cpus, free.cpus);
  if (need.memoryMiB > free.memoryMiB) return short('memory', need.memoryMiB, free.memoryMiB);
  if (need.kind === 'offer' && need.diskMiB > free.diskMiB) return short('disk', need.diskMiB, free.diskMiB);
  return { ok: true, gpuKeys };
}

/** The book of reservations. Every method is synchronous: a check and its take are one step. */
export class Reservations {
  private readonly held = new Map<string, Held>();
  private readonly listeners = new Set<() => void>();

  list(): Held[] {
    return [...this.held.values()];
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  get(id: string): Held | undefined {
    return this.held.get(id);
  }

  free(capacity: Capacity, except?: string): FreeResources {
    return freeOf(capacity, this.list().filter((h) => h.id !== except));
  }

  /** Takes `need` under `id` if it fits in what `capacity` leaves after every other reservation. */
  take(id: string, need: Need, capacity: Capacity): TakeResult {
    if (this.held.has(id)) throw new Error(`reservation ${id} is held already`);
    return this.put(id, need, capacity, undefined);
  }

  /**
   * Atomically gives up `from` and takes `need` under `id` (an accepted offer becomes its job,
   * checked again against the capacity now). When it does not fit, `from` stays held.
   */
  replace(from: string, id: string, need: Need, capacity: Capacity): TakeResult {
    if (!this.held.has(from)) return { ok: false, shortfall: { resource: 'slots', need: 1, free: 0 } };
    if (id !== from && this.held.has(id)) throw new Error(`reservation ${id} is held already`);
    return this.put(id, need, capacity, from);
  }

  /** Holds without a check: a job that already runs (re-adopted after a restart) uses what it uses. */
  hold(id: string, need: Need & { gpus: readonly string[] }): void {
    this.held.set(id, { id, kind: need.kind, gpuKeys: [...need.gpus], cpus: need.cpus, memoryMiB: need.memoryMiB, diskMiB: need.diskMiB });
    this.changed();
  }

  release(id: string): boolean {
    const had = this.held.delete(id);
    if (had) this.changed();
    return had;
  }

  /** Called after every change (tests check the invariant at every instant). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private put(id: string, need: Need, capacity: Capacity, from: string | undefined): TakeResult {
    const fitted = fit(need, this.free(capacity, from));
    if (!fitted.ok) return fitted;
    if (from !== undefined) this.held.delete(from);
    const held: Held = { id, kind: need.kind, gpuKeys: fitted.gpuKeys, cpus: need.cpus, memoryMiB: need.memoryMiB, diskMiB: need.diskMiB };
    this.held.set(id, held);
    this.changed();
    return { ok: true, held };
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {}
    }
  }
}

/** A shortfall in words: "2 CPUs asked, 0 of 2 free". */
export function describeShortfall(s: Shortfall, capacity: Capacity): string {
  switch (s.resource) {
    case 'slots':
      return `no job slot is free (this machine takes ${capacity.slots} job${capacity.slots === 1 ? '' : 's'} at once)`;
    case 'gpus':
      return `${s.need} GPU${s.need === 1 ? '' : 's'} asked, ${s.free} of ${capacity.gpus.length} free`;
    case 'vram':
      return `${s.need} GPU${s.need === 1 ? '' : 's'} with enough memory asked, ${s.free} free`;
    case 'cpus':
      return `${s.need} CPUs asked, ${s.free} of ${capacity.cpus} free`;
    case 'memory':
      return `${s.need} MiB of memory asked, ${s.free} of ${capacity.memoryMiB} MiB free`;
    case 'disk':
      return `${s.need} MiB of disk asked, ${s.free} MiB free`;
  }
}
