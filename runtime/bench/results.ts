/**
 * From measured figures to the result a person reads: figures checked (verified, below the
 * physical peak and the card's specification), score, spec ratio, throttling, likely reasons,
 * change since the last run. Pure.
 */
import type { Gpu } from '../gpu/schema.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import { aboveSpec, computeScore, diagnose, overallSpecRatio, specRatios, type Figures } from './score.js';
import { findGpuSpec, type GpuSpec } from './specs.js';
import { detectThrottle, type ThrottleSample } from './throttle.js';
import type { BenchGpuResult, FigureName, ProgramFigure, ProgramGpu, WebgpuSubmitInput } from './schema.js';

export interface ResultContext {
  /** The inventory entry of this GPU (VRAM, processes, power limit), when known. */
  gpu: Gpu | null;
  /** Telemetry of this GPU while the benchmark ran. */
  samples: ThrottleSample[];
  /** Processes other than the benchmark seen on this GPU during the run. */
  otherProcesses: { pid: number; name: string }[];
  quick: boolean;
  inContainer: boolean;
  measuredAt: number;
  previous: BenchGpuResult | null;
}

const FIGURE_KEYS: Record<FigureName, keyof Figures> = {
  fp32: 'fp32Tflops',
  fp16: 'fp16Tflops',
  bf16: 'bf16Tflops',
  memoryBandwidth: 'memoryBandwidthGBps',
  hostToDevice: 'hostToDeviceGBps',
  deviceToHost: 'deviceToHostGBps',
};

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
/** Four significant digits at least: a software adapter measures a few GFLOP/s (0.00012 TFLOP/s). */
const keep = (x: number, digits: number) => (x !== 0 && Math.abs(x) < 10 ** -digits * 1000 ? Number(x.toPrecision(4)) : round(x, digits));

function figureValue(name: FigureName, f: ProgramFigure, errors: string[]): number | null {
  if (!f) return null;
  if (f.error) {
    errors.push(`${name}: ${f.error}`);
    return null;
  }
  if (!f.verified) {
    errors.push(`${name}: the result was not verified against the reference, so the figure is discarded`);
    return null;
  }
  return f.median !== null && f.median > 0 ? round(f.median, 2) : null;
}

function finish(
  base: Pick<BenchGpuResult, 'index' | 'uuid' | 'gpuKey' | 'name' | 'backend' | 'durationS' | 'adapter' | 'error'>,
  figures: Figures,
  spread: Record<string, number | null>,
  throttleRuns: (number | null)[],
  errors: string[],
  spec: GpuSpec | null,
  vramGiB: number | null,
  ctx: ResultContext,
): BenchGpuResult {
  for (const [key, message] of Object.entries(aboveSpec(figures, spec, base.backend))) {
    figures[key as keyof Figures] = null;
    errors.push(message);
  }
  const score = computeScore(figures, vramGiB, base.backend);
  const ratios = specRatios(figures, spec, base.backend);
  const specRatio = overallSpecRatio(ratios);
  const throttle = detectThrottle(throttleRuns, ctx.samples, ctx.gpu?.powerLimitW ?? null);
  const flags = diagnose({ spec, ratios, specRatio, throttle, hostToDeviceGBps: figures.hostToDeviceGBps, otherProcesses: ctx.otherProcesses });
  const prev = ctx.previous;
  const changeVsLast = prev?.score && score !== null ? round(score / prev.score - 1, 3) : null;
  return {
    ...base,
    ...figures,
    spread,
    score,
    specRatio,
    ratios: { ...ratios },
    specName: spec?.name ?? null,
    throttled: throttle.throttled,
    throttle,
    flags,
    errors,
    quick: ctx.quick,
    inContainer: ctx.inContainer,
    measuredAt: ctx.measuredAt,
    changeVsLast,
    previousAt: changeVsLast === null ? null : (prev?.measuredAt ?? null),
  };
}

export function resultFromProgram(g: ProgramGpu, ctx: ResultContext): BenchGpuResult {
  const errors: string[] = [];
  const figures = {} as Figures;
  const spread: Record<string, number | null> = {};
  for (const name of Object.keys(FIGURE_KEYS) as FigureName[]) {
    const value = figureValue(name, g.figures[name], errors);
    figures[FIGURE_KEYS[name]] = value;
    spread[name] = value === null ? null : (g.figures[name]?.spread ?? null);
  }
  const name = g.name ?? ctx.gpu?.name ?? `GPU ${g.index}`;
  const spec = findGpuSpec(name);
  const vramGiB = ctx.gpu?.memoryTotalMiB ? ctx.gpu.memoryTotalMiB / 1024 : g.memoryTotalBytes ? g.memoryTotalBytes / 1024 ** 3 : null;
  const throttleFigure = (['bf16', 'fp16', 'fp32'] as const).find((f) => figures[FIGURE_KEYS[f]] !== null);
  const uuid = g.uuid ?? ctx.gpu?.uuid ?? null;
  return finish(
    {
      index: g.index,
      uuid,
      gpuKey: ctx.gpu ? gpuKey(ctx.gpu) : (uuid ?? `nvidia:${g.index}`),
      name,
      backend: 'cuda',
      durationS: g.durationS === null ? null : round(g.durationS, 1),
      adapter: null,
      error: g.error ? `The benchmark failed on this GPU: ${g.error}. If the GPU fell off the bus, check nvidia-smi and the system log (dmesg), then run the benchmark again.` : null,
    },
    figures,
    spread,
    throttleFigure ? (g.figures[throttleFigure]?.runs ?? []) : [],
    errors,
    spec,
    vramGiB,
    ctx,
  );
}

export function adapterLabel(a: WebgpuSubmitInput['adapter']): string {
  const text = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unknown adapter';
  return a.isFallbackAdapter ? `${text} (software fallback adapter)` : text;
}

/** A software adapter measures the CPU, not a GPU: those results never count for a card. */
export function isSoftwareAdapter(a: WebgpuSubmitInput['adapter']): boolean {
  return a.isFallbackAdapter || /swiftshader|llvmpipe|software|lavapipe|microsoft basic render/i.test(`${a.description} ${a.vendor} ${a.architecture} ${a.device}`);
}

export function resultFromWebgpu(input: WebgpuSubmitInput, ctx: ResultContext): BenchGpuResult {
  const software = isSoftwareAdapter(input.adapter);
  const gpu = software ? null : ctx.gpu;
  const adapter = adapterLabel(input.adapter);
  const name = gpu?.name ?? adapter;
  const spec = software ? null : findGpuSpec(name);
  const figures: Figures = {
    fp32Tflops: keep(input.fp32Tflops, 2),
    fp16Tflops: input.fp16Tflops === null ? null : keep(input.fp16Tflops, 2),
    bf16Tflops: null,
    memoryBandwidthGBps: keep(input.memoryBandwidthGBps, 2),
    hostToDeviceGBps: null,
    deviceToHostGBps: null,
  };
  const slug = adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return finish(
    {
      index: gpu?.index ?? null,
      uuid: gpu?.uuid ?? null,
      gpuKey: gpu ? gpuKey(gpu) : `webgpu:${slug || 'adapter'}`,
      name,
      backend: 'webgpu',
      durationS: round(input.durationS, 1),
      adapter,
      error: null,
    },
    figures,
    { fp32: input.spread.fp32, fp16: input.spread.fp16, memoryBandwidth: input.spread.memoryBandwidth },
    input.runs.fp16.length ? input.runs.fp16 : input.runs.fp32,
    [],
    spec,
    gpu?.memoryTotalMiB ? gpu.memoryTotalMiB / 1024 : null,
    { ...ctx, gpu },
  );
}
