/**
 * The advertisement: what this machine offers a new marketplace job now, built (purely) from
 * its GPUs, its capacity and what the reservations leave free (runtime/jobs/reservations.ts).
 */
import type { Gpu } from '../gpu/schema.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import type { Capacity, FreeResources } from '../jobs/reservations.js';
import type { AdvertisedImages, Advertisement, AdvertisedGpu } from '../../protocol/index.js';
import type { MarketSettings } from './settings.js';

export { RESERVED_MEMORY_MIB } from '../jobs/reservations.js';

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
  gpus: Gpu[];
  capacity: Capacity;
  free: FreeResources;
  scores: ReadonlyMap<string, number>;
  settings: MarketSettings;
  availability: Advertisement['availability'];
  windowSecondsLeft: number | null;
  chainId: number;
  escrow: string;
  agent: string;
  /** Revision 2: the warm images and free image budget (null: not told, the market speaks revision 1). */
  images: AdvertisedImages | null;
  /** Revision 3: the payout address vouchers must pay (null: none set, or the market speaks an earlier revision). */
  payee: string | null;
}): Advertisement {
  const gpus = advertisedGpus(input.gpus, input.scores);
  const scored = gpus.map((g) => g.score).filter((s): s is number => s !== null);
  const maxJobSeconds = Math.max(0, Math.min(input.settings.maxJobSeconds, input.windowSecondsLeft ?? Number.MAX_SAFE_INTEGER));
  return {
    gpus,
    cpus: Math.min(4096, Math.floor(input.capacity.cpus)),
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
    ...(input.images ? { images: input.images } : {}),
    ...(input.payee ? { payee: input.payee } : {}),
  };
}
