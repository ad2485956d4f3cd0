/**
 * The benchmark capability inside the agent (and `offshift bench` without one): runs the CUDA
 * program on each NVIDIA GPU with telemetry recorded, turns its figures into results, stores
 * them, takes WebGPU results from the dashboard, and answers the self-test. One run at a time.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { AppError } from '../errors.js';
import type { GpuService } from '../gpu/service.js';
import type { Gpu } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import { parseProgramOutput, programErrorMessage } from './parse.js';
import { FULL_TIMEOUT_MS, QUICK_TIMEOUT_MS, findBenchProgram, runBenchProgram, type ProgramRun } from './program.js';
import { resultFromProgram, resultFromWebgpu, type ResultContext } from './results.js';
import type { BenchGpuResult, BenchHistoryEntry, BenchProgress, BenchRunInput, BenchRunOutput, SelfTest, WebgpuSubmitInput } from './schema.js';
import { comparePassthrough } from './passthrough.js';
import { runSelfTest } from './self-test.js';
import { openBenchStore, type BenchStore } from './store.js';

/** Runs the program inside the hardened job container on one GPU (see container.ts). */
export type ContainerBench = (gpu: Gpu, args: string[], timeoutMs: number) => Promise<ProgramRun>;

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

export function createBenchService(options: BenchServiceOptions): BenchService {
  const now = options.now ?? Date.now;
  // OFFSHIFT_BENCH_TIMEOUT_S shortens the per-GPU time box (tests of a hung program).
  const envTimeoutMs = Number(options.env.OFFSHIFT_BENCH_TIMEOUT_S) * 1000;
  const timeouts = options.timeoutMs ?? (envTimeoutMs > 0 ? { quick: envTimeoutMs, full: envTimeoutMs } : { quick: QUICK_TIMEOUT_MS, full: FULL_TIMEOUT_MS });
  let store: BenchStore | null = null;
  const db = () => (store ??= openBenchStore(options.home, os.hostname()));
  let running = false;

  function progress(runId: string, fraction: number, message: string, done = false) {
    options.onProgress?.({ runId, fraction: Math.max(0, Math.min(1, fraction)), message, done });
  }

  function contextFor(gpu: Gpu | null, startedAt: number, quick: boolean, inContainer: boolean, ownPids: Set<number>, before: Gpu | null): ResultContext {
    const samples = gpu
      ? options.gpu
          .telemetry(startedAt)
          .samples.filter((s) => (gpu.uuid ? s.uuid === gpu.uuid : s.gpuIndex === gpu.index))
          .map(({ t, smClockMHz, temperatureC, powerDrawW }) => ({ t, smClockMHz, temperatureC, powerDrawW }))
      : [];
    const seen = new Map<number, string>();
    for (const p of [...(before?.processes ?? []), ...(gpu?.processes ?? [])]) if (!ownPids.has(p.pid)) seen.set(p.pid, p.name);
    return {
      gpu,
      samples,
      otherProcesses: [...seen].map(([pid, name]) => ({ pid, name })),
      quick,
      inContainer,
      measuredAt: now(),
      previous: gpu ? db().latestScored(gpuKey(gpu)) : null,
    };
  }

  /** One GPU through the program: a result, never a throw (a failure is the result's error). */
  async function benchOne(gpu: Gpu, quick: boolean, inContainer: boolean, onPid: (pid: number) => void): Promise<BenchGpuResult> {
    const args = quick ? ['--quick'] : [];
    const timeoutMs = quick ? timeouts.quick : timeouts.full;
    const startedAt = now();
    const ownPids = new Set<number>();
    let run: ProgramRun;
    if (inContainer) {
      if (!options.inContainer) throw new AppError('bench-no-container', 'This agent cannot run the benchmark in a container (no Docker connection).');
      run = await options.inContainer(gpu, args, timeoutMs);
    } else {
      const program = findBenchProgram(options.env);
      if (!program) {
        throw new AppError(
          'bench-program-missing',
          'The CUDA benchmark program is not built: install the CUDA toolkit (nvcc) and run `npm run build`, or run the WebGPU benchmark from the GPUs page of the dashboard.',
        );
      }
      const env = { ...options.env, CUDA_VISIBLE_DEVICES: gpu.uuid ?? String(gpu.index), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
      run = await runBenchProgram(program, args, {
        env,
        timeoutMs,
        onStart: (pid) => {
          ownPids.add(pid);
          onPid(pid);
        },
      });
    }
    const after = (await options.gpu.list().catch(() => [] as Gpu[])).find((g) => (gpu.uuid ? g.uuid === gpu.uuid : g.index === gpu.index)) ?? null;
    const ctx = contextFor(after ?? gpu, startedAt, quick, inContainer, ownPids, gpu);
    const failed = (message: string) => failedResult(gpu, message, ctx);
    if (run.startError) return failed(`The benchmark program could not start: ${run.startError}.`);
    if (run.timedOut) {
      return failed(
        `The benchmark did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped: the GPU may be hung or taken by another program. Check nvidia-smi, then run the benchmark again.`,
      );
    }
    let output;
    try {
      output = parseProgramOutput(run.stdout);
    } catch (error) {
      const why = run.stderr.trim().split('\n').at(-1);
      return failed(`${(error as Error).message}${run.code ? ` (exit code ${run.code}${why ? `: ${why}` : ''})` : ''}`);
    }
    if (output.error) return failed(programErrorMessage(output.error, output.cudaDriver));
    const measured = output.gpus[0];
    if (!measured) return failed('The benchmark program measured no GPU: the driver did not offer this one to CUDA. Check nvidia-smi, then run again.');
    if (!after && !measured.error) {
      return { ...resultFromProgram(measured, ctx), error: 'The GPU disappeared from nvidia-smi during the benchmark: check the system log (dmesg) for "fallen off the bus", then run again.' };
    }
    return resultFromProgram({ ...measured, index: gpu.index, uuid: measured.uuid ?? gpu.uuid ?? undefined }, ctx);
  }

  return {
    get running() {
      return running;
    },
    async run(input) {
      if (running) throw new AppError('bench-busy', 'A benchmark is already running: wait for it to finish.');
      const busy = options.busyReason?.();
      if (busy) throw new AppError('bench-busy', busy);
      running = true;
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
          const result = await benchOne(gpu, quick, inContainer, () => {});
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
        running = false;
      }
    },
    async submitWebgpu(input) {
      const gpus = await options.gpu.list().catch(() => [] as Gpu[]);
      const gpu = input.gpuIndex === null ? null : (gpus.find((g) => g.index === input.gpuIndex) ?? null);
      const base = contextFor(gpu, now() - input.durationS * 1000, false, false, new Set(), null);
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

function failedResult(gpu: Gpu, message: string, ctx: ResultContext): BenchGpuResult {
  return {
    index: gpu.index,
    uuid: gpu.uuid,
    gpuKey: gpuKey(gpu),
    name: gpu.name,
    backend: 'cuda',
    fp32Tflops: null,
    fp16Tflops: null,
    bf16Tflops: null,
    memoryBandwidthGBps: null,
    hostToDeviceGBps: null,
    deviceToHostGBps: null,
    spread: {},
    score: null,
    specRatio: null,
    ratios: {},
    specName: null,
    throttled: false,
    throttle: { throttled: false, dropRatio: null, reason: null },
    flags: [],
    errors: [],
    error: message,
    durationS: null,
    adapter: null,
    quick: ctx.quick,
    inContainer: ctx.inContainer,
    measuredAt: ctx.measuredAt,
    changeVsLast: null,
    previousAt: null,
  };
}
