/**
 * The benchmark capability inside the agent (and `offshift bench` without one): runs the CUDA
 * program on each NVIDIA GPU with telemetry recorded, turns its figures into results, stores
 * them, takes WebGPU results from the dashboard, and answers the self-test. One run at a time.
 */
import os from 'node:os';
import { AppError } from '../errors.js';
import type { GpuService } from '../gpu/service.js';
import type { Gpu } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { runBench, type BenchRunDeps } from './bench-run.js';
import { contextFor, type ContainerBench } from './one-gpu.js';
import { FULL_TIMEOUT_MS, QUICK_TIMEOUT_MS } from './program.js';
import { resultFromWebgpu } from './results.js';
import type { BenchGpuResult, BenchHistoryEntry, BenchProgress, BenchRunInput, BenchRunOutput, SelfTest, WebgpuSubmitInput } from './schema.js';
import { runSelfTest } from './self-test.js';
import { openBenchStore, type BenchStore } from './store.js';

export type { ContainerBench } from './one-gpu.js';
export { selectGpus } from './bench-run.js';

export interface BenchServiceOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  gpu: Pick<GpuService, 'list' | 'telemetry'>;
  onProgress?: (event: BenchProgress) => void;
  /** Why a benchmark must not run now (a job is using the GPUs), or null. */
  busyReason?: () => string | null;
  inContainer?: ContainerBench;
  /** Per-GPU time box (default 45 s quick, 120 s full). */
  timeoutMs?: { quick: number; full: number };
  now?: () => number;
}

export interface BenchService {
  run(input: BenchRunInput): Promise<BenchRunOutput>;
  submitWebgpu(input: WebgpuSubmitInput): Promise<BenchGpuResult>;
  history(options?: { gpuKey?: string; limit?: number }): BenchHistoryEntry[];
  selfTest(): Promise<SelfTest>;
  readonly running: boolean;
  close(): void;
}

export function createBenchService(options: BenchServiceOptions): BenchService {
  const now = options.now ?? Date.now;
  // OFFSHIFT_BENCH_TIMEOUT_S shortens the per-GPU time box (tests of a hung program).
  const envTimeoutMs = Number(options.env.OFFSHIFT_BENCH_TIMEOUT_S) * 1000;
  const timeouts = options.timeoutMs ?? (envTimeoutMs > 0 ? { quick: envTimeoutMs, full: envTimeoutMs } : { quick: QUICK_TIMEOUT_MS, full: FULL_TIMEOUT_MS });
  let store: BenchStore | null = null;
  const db = () => (store ??= openBenchStore(options.home, os.hostname()));
  let running = false;
  const deps: BenchRunDeps = { options, now, timeouts, db };

  return {
    get running() {
      return running;
    },
    async run(input) {
      if (running) throw new AppError('bench-busy', 'A benchmark is already running: wait for it to finish.');
      const busy = options.busyReason?.();
      if (busy) throw new AppError('bench-busy', busy);
      running = true;
      try {
        return await runBench(deps, input);
      } finally {
        running = false;
      }
    },
    async submitWebgpu(input) {
      const gpus = await options.gpu.list().catch(() => [] as Gpu[]);
      const gpu = input.gpuIndex === null ? null : (gpus.find((g) => g.index === input.gpuIndex) ?? null);
      const base = contextFor(deps, gpu, now() - input.durationS * 1000, false, false, new Set(), null);
      const result = resultFromWebgpu(input, base);
      const previous = db().latestScored(result.gpuKey);
      const changeVsLast = previous?.score && result.score !== null ? Math.round((result.score / previous.score - 1) * 1000) / 1000 : null;
      const final = { ...result, changeVsLast, previousAt: changeVsLast === null ? null : previous!.measuredAt };
      db().add(final, gpu?.driverVersion ?? null);
      return final;
    },
    history(opts) {
      return db().history(opts);
    },
    async selfTest() {
      const gpus = await options.gpu.list();
      return runSelfTest({ env: options.env, home: options.home, gpus, latest: (key) => db().history({ gpuKey: key, limit: 20 }).map((e) => e.result) });
    },
    close() {
      store?.close();
      store = null;
    },
  };
}
