// A CUDA benchmark run over the selected NVIDIA GPUs (and, asked, each again in the job
// container): progress while it runs, the results stored, the passthrough compared.
import crypto from 'node:crypto';
import { AppError } from '../errors.js';
import type { Gpu } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import { benchOne, type BenchDeps } from './one-gpu.js';
import { comparePassthrough } from './passthrough.js';
import type { BenchGpuResult, BenchProgress, BenchRunInput, BenchRunOutput } from './schema.js';

/** What a run reads beyond one GPU's: where progress goes and the log. */
export interface BenchRunDeps extends BenchDeps {
  options: BenchDeps['options'] & { log: Logger; onProgress?: (event: BenchProgress) => void };
}

/** Which NVIDIA GPUs a run is for: all, or the one named by index or UUID. */
export function selectGpus(gpus: Gpu[], which: string | undefined): Gpu[] {
  const nvidia = gpus.filter((g) => g.vendor === 'nvidia');
  if (which === undefined || which === '') return nvidia;
  const match = /^\d+$/.test(which) ? nvidia.filter((g) => g.index === Number(which)) : nvidia.filter((g) => g.uuid === which || gpuKey(g) === which);
  if (!match.length) {
    const known = nvidia.map((g) => `${g.index} (${g.uuid ?? g.name})`).join(', ');
    throw new AppError('bench-no-such-gpu', `No NVIDIA GPU "${which}" on this machine${known ? `; there are: ${known}` : ''}. Run \`offshift gpus\` for the list.`);
  }
  return match;
}

/** The run itself, once the service has taken its one slot. */
export async function runBench(deps: BenchRunDeps, input: BenchRunInput): Promise<BenchRunOutput> {
  const { options, now, db } = deps;
  const progress = (runId: string, fraction: number, message: string, done = false) => {
    options.onProgress?.({ runId, fraction: Math.max(0, Math.min(1, fraction)), message, done });
  };
  const runId = crypto.randomUUID();
  const quick = input.quick ?? false;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const gpus = selectGpus(await options.gpu.list(), input.gpu);
    if (!gpus.length) {
      throw new AppError('bench-no-cuda-gpu', 'No NVIDIA GPU was found, so the CUDA benchmark has nothing to measure: run the WebGPU benchmark from the GPUs page of the dashboard (any GPU).');
    }
    const steps = gpus.length * (input.inContainer ? 2 : 1);
    const expectedMs = quick ? 12_000 : 40_000;
    const results: BenchGpuResult[] = [];
    let passthrough: BenchRunOutput['passthrough'] = null;
    let step = 0;
    const runStep = async (gpu: Gpu, inContainer: boolean) => {
      const label = `${inContainer ? 'in the job container: ' : ''}GPU ${gpu.index} (${gpu.name})`;
      const base = step / steps;
      const stepStarted = now();
      progress(runId, base, `Measuring ${label}…`);
      clearInterval(ticker);
      ticker = setInterval(() => progress(runId, base + Math.min(0.95, (now() - stepStarted) / expectedMs) / steps, `Measuring ${label}…`), 1000);
      const result = await benchOne(deps, gpu, quick, inContainer, () => {});
      clearInterval(ticker);
      step++;
      return result;
    };
    for (const gpu of gpus) {
      const host = await runStep(gpu, false);
      results.push(host);
      if (input.inContainer) {
        const inside = await runStep(gpu, true);
        results.push(inside);
        passthrough = comparePassthrough(host, inside);
      }
    }
    for (const r of results) {
      try {
        db().add(r, gpus.find((g) => gpuKey(g) === r.gpuKey)?.driverVersion ?? null);
      } catch (error) {
        options.log.warn('benchmark result not stored', { gpuKey: r.gpuKey, error });
      }
    }
    progress(runId, 1, 'Benchmark finished.', true);
    return { gpus: results, passthrough };
  } catch (error) {
    progress(runId, 1, `Benchmark failed: ${(error as Error).message}`, true);
    throw error;
  } finally {
    clearInterval(ticker);
  }
}
