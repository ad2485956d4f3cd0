/**
 * What the Marketplace page suggests beside the price floor, and the scores the advertisement
 * carries: both from the benchmark (runtime/bench) when one has run, the suggestion also from
 * the prices of recent offers once there are enough of them.
 */
import { latestScores } from '../bench/scores.js';
import { suggestPricePerGpuHour } from '../bench/price.js';
import type { Gpu } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { gpuKey } from '../sandbox/gpu-assign.js';

export async function scoresByGpu(home: string, log: Logger): Promise<ReadonlyMap<string, number>> {
  return new Map((await latestScores(home, log)).map((s) => [s.gpuKey, s.score]));
}

/** The suggestion for this machine's best leasable card; null without one (a CPU-only machine). */
export function suggestedPrice(gpus: readonly Gpu[], scores: ReadonlyMap<string, number>, recentPerGpuHour: bigint[]): { price: bigint; basis: string } | null {
  const leasable = gpus.filter((g) => g.vendor === 'nvidia' || g.vendor === 'amd');
  if (leasable.length === 0) return null;
  const best = [...leasable].sort((a, b) => (scores.get(gpuKey(b)) ?? -1) - (scores.get(gpuKey(a)) ?? -1) || (b.memoryTotalMiB ?? 0) - (a.memoryTotalMiB ?? 0))[0]!;
  const s = suggestPricePerGpuHour({ score: scores.get(gpuKey(best)) ?? null, vramGiB: (best.memoryTotalMiB ?? 0) / 1024, marketRecentPrices: recentPerGpuHour });
  return { price: s.pricePerGpuHour, basis: `${best.name}: ${s.basis}` };
}
