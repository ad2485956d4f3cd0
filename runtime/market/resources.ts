/**
 * What this machine can offer a new marketplace job now, and the advertisement built from it.
 * `freeResources` reads the machine (GPUs, CPUs, memory, disk); `buildAdvertisement` is pure.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Gpu } from '../gpu/schema.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import type { Job } from '../jobs/schema.js';
import type { FreeResources } from './acceptance.js';
import type { Advertisement, AdvertisedGpu } from './protocol.js';
import type { MarketSettings } from './settings.js';

/** Memory kept for the owner's own use, never offered. */
export const RESERVED_MEMORY_MIB = 1024;
const LEASABLE = new Set(['nvidia', 'amd']);

export interface MachineFacts {
  gpus: Gpu[];
  outOfService: ReadonlySet<string>;
  /** Jobs not in a final state (any source: market, CLI). */
  activeJobs: Job[];
  /** Offers accepted and not yet started (they hold their resources). */
  pending: Array<{ gpus: number; cpus: number; memoryMiB: number; diskMiB: number }>;
  cpus: number;
  totalMemoryMiB: number;
  freeDiskMiB: number;
}

export function readMachineFacts(home: string, gpus: Gpu[], outOfService: ReadonlySet<string>, activeJobs: Job[], pending: MachineFacts['pending']): MachineFacts {
  let freeDiskMiB = 0;
  try {
    const s = fs.statfsSync(home);
    freeDiskMiB = Math.floor((Number(s.bavail) * Number(s.bsize)) / 1024 / 1024);
  } catch {}
  return { gpus, outOfService, activeJobs, pending, cpus: os.cpus().length, totalMemoryMiB: Math.floor(os.totalmem() / 1024 / 1024), freeDiskMiB };
}

/** Free for a new job: leasable GPUs not in use or out of service, and what running jobs leave. */
export function freeResources(f: MachineFacts): FreeResources {
  const busy = new Set<string>(f.outOfService);
  for (const j of f.activeJobs) for (const g of j.gpus) busy.add(g);
  const leasable = f.gpus.filter((g) => LEASABLE.has(g.vendor));
  const pendingGpus = f.pending.reduce((n, p) => n + p.gpus, 0);
  const freeGpus = leasable.filter((g) => !busy.has(gpuKey(g))).slice(pendingGpus);
  const committed = [...f.activeJobs.map((j) => j.spec), ...f.pending];
  const cpus = Math.max(0, f.cpus - committed.reduce((n, s) => n + s.cpus, 0));
  const memoryMiB = Math.max(0, f.totalMemoryMiB - RESERVED_MEMORY_MIB - committed.reduce((n, s) => n + s.memoryMiB, 0));
  const diskMiB = Math.max(0, f.freeDiskMiB - f.pending.reduce((n, p) => n + p.diskMiB, 0));
  // One job per GPU; a machine without a leasable GPU takes one CPU-only job at a time.
  const maxJobs = Math.max(1, leasable.length);
  const slots = Math.max(0, maxJobs - f.activeJobs.length - f.pending.length);
  return { gpus: freeGpus.map((g) => ({ key: gpuKey(g), vramMiB: g.memoryTotalMiB })), cpus, memoryMiB, diskMiB, slots };
}

export function advertisedGpus(gpus: Gpu[], scores: ReadonlyMap<string, number>): AdvertisedGpu[] {
  return gpus.slice(0, 64).map((g) => ({
    model: g.name.slice(0, 200),
    vendor: g.vendor,
    vramMiB: g.memoryTotalMiB === null ? null : Math.round(g.memoryTotalMiB),
    driver: g.driverVersion?.slice(0, 64) ?? null,
    cudaVersion: g.cudaVersion?.slice(0, 32) ?? null,
    score: scores.get(gpuKey(g)) ?? null,
  }));
}

export function buildAdvertisement(input: {
  facts: MachineFacts;
  free: FreeResources;
  scores: ReadonlyMap<string, number>;
  settings: MarketSettings;
  availability: Advertisement['availability'];
  windowSecondsLeft: number | null;
  chainId: number;
  escrow: string;
  agent: string;
}): Advertisement {
  const gpus = advertisedGpus(input.facts.gpus, input.scores);
  const scored = gpus.map((g) => g.score).filter((s): s is number => s !== null);
  const maxJobSeconds = Math.max(0, Math.min(input.settings.maxJobSeconds, input.windowSecondsLeft ?? Number.MAX_SAFE_INTEGER));
  return {
    gpus,
    cpus: Math.min(4096, input.facts.cpus),
    memoryMiB: input.free.memoryMiB,
    freeDiskMiB: input.free.diskMiB,
    score: scored.length ? Math.max(...scored) : null,
    prices: { minPricePerGpuHour: input.settings.minPricePerGpuHour, minPricePerJobHour: input.settings.minPricePerJobHour },
    availability: input.availability,
    maxJobSeconds: Math.floor(maxJobSeconds),
    slots: Math.min(64, input.free.slots),
    freeGpus: Math.min(64, input.free.gpus.length),
    chainId: input.chainId,
    escrow: input.escrow,
    agent: input.agent.slice(0, 64),
  };
}
