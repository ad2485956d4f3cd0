/**
 * Benchmark payloads: the CUDA program's JSON (hostile until parsed), the results the API and
 * `offshift bench` return, history, self-test and progress. Free of node-only imports (the
 * renderer type-checks against this file).
 */
import { z } from 'zod';
import { checkItemSchema } from '../system/schema.js';

const finite = z.number().finite();
const text = (max: number) => z.string().max(max);

// ── what offshift-bench prints (resources/bench/offshift-bench.cu) ─────────────────────────
export const programFigureSchema = z
  .object({
    unit: text(16),
    median: finite.nullable(),
    spread: finite.nullable(),
    runs: z.array(finite.nullable()).max(100),
    peak: finite.nullable(),
    verified: z.boolean(),
    error: text(500).nullable(),
  })
  .nullable();
export type ProgramFigure = z.infer<typeof programFigureSchema>;

export const FIGURES = ['fp32', 'fp16', 'bf16', 'memoryBandwidth', 'hostToDevice', 'deviceToHost'] as const;
export type FigureName = (typeof FIGURES)[number];

export const programGpuSchema = z.object({
  index: z.number().int().min(0).max(255),
  uuid: text(80).optional(),
  name: text(200).optional(),
  pciBusId: text(40).optional(),
  computeCapability: text(10).optional(),
  smCount: z.number().int().min(0).max(100_000).optional(),
  maxClockMHz: finite.nullable().optional(),
  memoryClockMHz: finite.nullable().optional(),
  memoryBusWidthBits: z.number().int().min(0).max(100_000).optional(),
  memoryTotalBytes: z.number().min(0).optional(),
  figures: z.object({
    fp32: programFigureSchema,
    fp16: programFigureSchema,
    bf16: programFigureSchema,
    memoryBandwidth: programFigureSchema,
    hostToDevice: programFigureSchema,
    deviceToHost: programFigureSchema,
  }),
  durationS: finite.nullable(),
  error: text(1000).nullable(),
});
export type ProgramGpu = z.infer<typeof programGpuSchema>;

export const programOutputSchema = z.object({
  program: z.literal('offshift-bench'),
  version: z.literal(1),
  mode: z.enum(['quick', 'full']).optional(),
  cudaRuntime: z.number().int().optional(),
  cudaDriver: z.number().int().optional(),
  error: z.object({ code: text(40), message: text(1000) }).nullable(),
  gpus: z.array(programGpuSchema).max(64),
});
export type ProgramOutput = z.infer<typeof programOutputSchema>;

// ── results ────────────────────────────────────────────────────────────────────────────────
export const backendSchema = z.enum(['cuda', 'webgpu']);

export const throttleSchema = z.object({
  throttled: z.boolean(),
  /** Relative drop of the last runs below the first (0.1 = 10% slower), when measured. */
  dropRatio: finite.nullable(),
  reason: text(300).nullable(),
});
export type Throttle = z.infer<typeof throttleSchema>;

/** One GPU's benchmark, as `offshift bench run --json` prints it and the API returns it. */
export const benchGpuResultSchema = z.object({
  index: z.number().int().nullable(),
  uuid: z.string().nullable(),
  gpuKey: z.string(),
  name: z.string(),
  backend: backendSchema,
  fp32Tflops: finite.nullable(),
  fp16Tflops: finite.nullable(),
  bf16Tflops: finite.nullable(),
  memoryBandwidthGBps: finite.nullable(),
  hostToDeviceGBps: finite.nullable(),
  deviceToHostGBps: finite.nullable(),
  /** Per figure, (max − min) / median over the timed runs. */
  spread: z.record(z.string(), finite.nullable()),
  score: finite.nullable(),
  /** Measured / specified (FP32 and memory bandwidth, geometric mean); null for an unknown card. */
  specRatio: finite.nullable(),
  /** Per figure, measured / specified. */
  ratios: z.record(z.string(), finite.nullable()),
  specName: z.string().nullable(),
  throttled: z.boolean(),
  throttle: throttleSchema,
  /** Likely reasons a card runs far below its specification, each a sentence. */
  flags: z.array(z.string()),
  /** Measurement errors (a figure above the physical peak, a failed check): those figures are null. */
  errors: z.array(z.string()),
  /** The run failed for this GPU (it disappeared, the program hung, the driver is too old). */
  error: z.string().nullable(),
  durationS: finite.nullable(),
  /** WebGPU: the adapter that ran ("SwiftShader (software)", "NVIDIA …"). */
  adapter: z.string().nullable(),
  quick: z.boolean(),
  inContainer: z.boolean(),
  measuredAt: z.number(),
  /** Score relative to the previous run of this GPU (−0.07: 7% lower); null without one. */
  changeVsLast: finite.nullable(),
  previousAt: z.number().nullable(),
});
export type BenchGpuResult = z.infer<typeof benchGpuResultSchema>;

export const benchRunInputSchema = z
  .object({
    /** INDEX or UUID; all NVIDIA GPUs when absent. */
    gpu: z.string().max(80).optional(),
    quick: z.boolean().optional(),
    /** Also run inside the job container with the GPU passed through, and compare. */
    inContainer: z.boolean().optional(),
  })
  .strict();
export type BenchRunInput = z.infer<typeof benchRunInputSchema>;

export const passthroughSchema = z.object({
  /** pass: the container measured within 10% of the host; fail: it could not run or fell short. */
  status: z.enum(['pass', 'warn', 'fail']),
  message: z.string(),
});

export const benchRunOutputSchema = z.object({
  gpus: z.array(benchGpuResultSchema),
  passthrough: passthroughSchema.nullable(),
});
export type BenchRunOutput = z.infer<typeof benchRunOutputSchema>;

export const benchHistoryInputSchema = z
  .object({ gpuKey: z.string().max(200).optional(), limit: z.number().int().min(1).max(1000).optional() })
  .strict();
export const benchHistoryEntrySchema = z.object({
  id: z.number().int(),
  machine: z.string(),
  driverVersion: z.string().nullable(),
  result: benchGpuResultSchema,
});
export type BenchHistoryEntry = z.infer<typeof benchHistoryEntrySchema>;
export const benchHistoryOutputSchema = z.object({ entries: z.array(benchHistoryEntrySchema) });

export const selfTestOutputSchema = z.object({
  checkedAt: z.string(),
  ready: z.boolean(),
  items: z.array(checkItemSchema),
});
export type SelfTest = z.infer<typeof selfTestOutputSchema>;

export const benchProgressEventSchema = z.object({
  runId: z.string(),
  /** 0..1 of the whole run. */
  fraction: z.number().min(0).max(1),
  message: z.string(),
  done: z.boolean(),
});
export type BenchProgress = z.infer<typeof benchProgressEventSchema>;

/** What the dashboard's WebGPU benchmark sends (hostile: bounded and checked). */
export const webgpuSubmitInputSchema = z
  .object({
    /** The inventory GPU this adapter is (index), or null when the page could not tell. */
    gpuIndex: z.number().int().min(0).max(255).nullable(),
    adapter: z
      .object({
        vendor: text(100),
        architecture: text(100),
        device: text(100),
        description: text(200),
        isFallbackAdapter: z.boolean(),
      })
      .strict(),
    fp32Tflops: finite.min(0).max(10_000),
    fp16Tflops: finite.min(0).max(10_000).nullable(),
    memoryBandwidthGBps: finite.min(0).max(100_000),
    spread: z.object({ fp32: finite.min(0).max(100), fp16: finite.min(0).max(100).nullable(), memoryBandwidth: finite.min(0).max(100) }).strict(),
    runs: z.object({ fp32: z.array(finite.min(0)).max(50), fp16: z.array(finite.min(0)).max(50), memoryBandwidth: z.array(finite.min(0)).max(50) }).strict(),
    durationS: finite.min(0).max(3600),
  })
  .strict();
export type WebgpuSubmitInput = z.infer<typeof webgpuSubmitInputSchema>;
