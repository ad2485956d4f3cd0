/** A provider's advertisement for market tests: one RTX 4090, prices and limits that pass every check. */
import type { Advertisement } from '../../protocol/index.js';

export function makeAd(market: { chainId: number; escrow: string }, over: Partial<Advertisement> = {}): Advertisement {
  return {
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vendor: 'nvidia', vramMiB: 24564, driver: '550.54', cudaVersion: '12.4', score: null }],
    cpus: 16,
    memoryMiB: 65536,
    freeDiskMiB: 100_000,
    score: null,
    prices: { minPricePerGpuHour: '250000000000000000', minPricePerJobHour: '100000000000000000' },
    availability: { state: 'available', reason: 'idle' },
    maxJobSeconds: 86_400,
    slots: 4,
    freeGpus: 1,
    chainId: market.chainId,
    escrow: market.escrow,
    agent: 'test-provider',
    ...over,
  };
}
