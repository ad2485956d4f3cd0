/**
 * Matching, pure: which connected provider gets the next offer of a job. Requirements first
 * (GPU count and VRAM, CPUs, memory, disk, duration, availability, free GPUs and slots), then
 * price (the job's price covers the provider's floor), then the best score (null last), then the
 * provider offered least recently.
 */
import type { Advertisement, JobRequest } from '../runtime/market/protocol.js';

export interface Candidate {
  address: string;
  ad: Advertisement | null;
  connected: boolean;
  /** Offers standing and jobs confirmed since the last advertisement: not yet in `ad.slots`. */
  reservedSlots: number;
  reservedGpus: number;
  /** Unix ms of the last offer made to it (0: never). */
  lastOfferedAt: number;
}

/** The provider's floor for a job of `gpus` GPUs: max(minPricePerJobHour, gpus × minPricePerGpuHour). */
export function providerFloor(ad: Advertisement, gpus: number): bigint {
  const perJob = BigInt(ad.prices.minPricePerJobHour);
  const perGpus = BigInt(gpus) * BigInt(ad.prices.minPricePerGpuHour);
  return perJob > perGpus ? perJob : perGpus;
}

/** Why a provider cannot take a job (null: it can). The market's own view; the provider decides for itself. */
export function unfitReason(job: JobRequest, c: Candidate, market: { chainId: number; escrow: string }): string | null {
  const ad = c.ad;
  if (!c.connected) return 'disconnected';
  if (!ad) return 'no-advertisement';
  if (ad.availability.state === 'paused' || ad.availability.state === 'error') return 'not-available';
  if (ad.chainId !== market.chainId || ad.escrow.toLowerCase() !== market.escrow.toLowerCase()) return 'wrong-chain';
  if (ad.slots - c.reservedSlots < 1) return 'busy';
  if (job.gpus > 0) {
    if (ad.gpus.length < job.gpus || ad.freeGpus - c.reservedGpus < job.gpus) return 'not-enough-gpus';
    if (job.minVramMiB > 0 && ad.gpus.filter((g) => g.vramMiB !== null && g.vramMiB >= job.minVramMiB).length < job.gpus) return 'not-enough-vram';
  }
  if (ad.cpus < job.cpus) return 'not-enough-cpus';
  if (ad.memoryMiB < job.memoryMiB) return 'not-enough-memory';
  if (ad.freeDiskMiB < job.diskMiB) return 'not-enough-disk';
  if (job.maxDurationSeconds > ad.maxJobSeconds) return 'duration-beyond-window';
  if (BigInt(job.pricePerHour) < providerFloor(ad, job.gpus)) return 'price-below-floor';
  return null;
}

/** True when `a` should be offered before `b`: higher score first (null last), then least recently offered. */
export function before(a: Candidate, b: Candidate): boolean {
  const sa = a.ad?.score ?? null;
  const sb = b.ad?.score ?? null;
  if (sa !== sb) {
    if (sa === null) return false;
    if (sb === null) return true;
    return sa > sb;
  }
  if (a.lastOfferedAt !== b.lastOfferedAt) return a.lastOfferedAt < b.lastOfferedAt;
  return a.address < b.address;
}

/** The best provider for the job among `candidates`, skipping `exclude`; null when none fits. One pass, no sort. */
export function pickProvider(job: JobRequest, candidates: Iterable<Candidate>, market: { chainId: number; escrow: string }, exclude: (c: Candidate) => boolean = () => false): Candidate | null {
  let best: Candidate | null = null;
  for (const c of candidates) {
    if (exclude(c) || unfitReason(job, c, market) !== null) continue;
    if (best === null || before(c, best)) best = c;
  }
  return best;
}

/** Every provider that fits, best first (for views and tests). */
export function rankProviders(job: JobRequest, candidates: Iterable<Candidate>, market: { chainId: number; escrow: string }): Candidate[] {
  return [...candidates].filter((c) => unfitReason(job, c, market) === null).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}
