// One GPU through the CUDA benchmark program (on the host or in the job container), its
// telemetry and inventory turned into the context a result is computed from.
import type { GpuService } from '../gpu/service.js';
import type { Gpu } from '../gpu/schema.js';
import { AppError } from '../errors.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import { parseProgramOutput, programErrorMessage } from './parse.js';
import { findBenchProgram, runBenchProgram, type ProgramRun } from './program.js';
import { resultFromProgram, type ResultContext } from './results.js';
import type { BenchGpuResult } from './schema.js';
import type { BenchStore } from './store.js';

/** Runs the program inside the hardened job container on one GPU (see container.ts). */
export type ContainerBench = (gpu: Gpu, args: string[], timeoutMs: number) => Promise<ProgramRun>;

/** What a benchmark run reads: the service's options, its clock, time boxes and store. */
export interface BenchDeps {
  options: {
    env: NodeJS.ProcessEnv;
    gpu: Pick<GpuService, 'list' | 'telemetry'>;
    inContainer?: ContainerBench;
  };
  now: () => number;
  timeouts: { quick: number; full: number };
  db: () => BenchStore;
}

/** What a result is computed from: the GPU's telemetry during the run, the other processes seen on it, the previous score. */
export function contextFor(deps: BenchDeps, gpu: Gpu | null, startedAt: number, quick: boolean, inContainer: boolean, ownPids: Set<number>, before: Gpu | null): ResultContext {
  const samples = gpu
    ? deps.options.gpu
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
    measuredAt: deps.now(),
    previous: gpu ? deps.db().latestScored(gpuKey(gpu)) : null,
  };
}

/** One GPU through the program: a result, never a throw (a failure is the result's error). */
export async function benchOne(deps: BenchDeps, gpu: Gpu, quick: boolean, inContainer: boolean, onPid: (pid: number) => void): Promise<BenchGpuResult> {
  const args = quick ? ['--quick'] : [];
  const timeoutMs = quick ? deps.timeouts.quick : deps.timeouts.full;
  const startedAt = deps.now();
  const ownPids = new Set<number>();
  let run: ProgramRun;
  if (inContainer) {
    if (!deps.options.inContainer) throw new AppError('bench-no-container', 'This agent cannot run the benchmark in a container (no Docker connection).');
    run = await deps.options.inContainer(gpu, args, timeoutMs);
  } else {
    const program = findBenchProgram(deps.options.env);
    if (!program) {
      throw new AppError(
        'bench-program-missing',
        'The CUDA benchmark program is not built: install the CUDA toolkit (nvcc) and run `npm run build`, or run the WebGPU benchmark from the GPUs page of the dashboard.',
      );
    }
    const env = { ...deps.options.env, CUDA_VISIBLE_DEVICES: gpu.uuid ?? String(gpu.index), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
    run = await runBenchProgram(program, args, {
      env,
      timeoutMs,
      onStart: (pid) => {
        ownPids.add(pid);
        onPid(pid);
      },
    });
  }
  const after = (await deps.options.gpu.list().catch(() => [] as Gpu[])).find((g) => (gpu.uuid ? g.uuid === gpu.uuid : g.index === gpu.index)) ?? null;
  const ctx = contextFor(deps, after ?? gpu, startedAt, quick, inContainer, ownPids, gpu);
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
