/**
 * The score, the ratio to the card's specification and the likely reasons a card runs far
 * below it. Pure; the formula is documented in docs/benchmarks.md.
 *
 *   score = 100 × (T / T_ref)^0.4 × (F / F_ref)^0.2 × (B / B_ref)^0.3 × (V / V_ref)^0.1
 *
 * T: matrix throughput (the higher of FP16 and BF16 tensor TFLOP/s; FP32 where the card has no
 * tensor figure, and always on the WebGPU backend, which cannot reach matrix units), F: FP32
 * TFLOP/s, B: device memory bandwidth (GB/s, read + written), V: VRAM (GiB). The reference is
 * the specification of the NVIDIA GeForce RTX 4090 (referenceSpec()): that card measuring
 * exactly its specification scores 100.
 */
import type { GpuSpec } from './specs.js';
import { referenceSpec } from './specs.js';
import type { Throttle } from './schema.js';

export const WEIGHTS = { tensor: 0.4, fp32: 0.2, bandwidth: 0.3, vram: 0.1 } as const;
/** Below this share of its specification a card is flagged. */
export const FAR_BELOW_SPEC = 0.8;
/** Host↔device transfer below this share of the PCIe link's raw rate is flagged. */
export const PCIE_FLOOR_SHARE = 0.5;
/** Above spec × this, a figure is a measurement error (GeForce cards boost past their reference clock). */
export const SPEC_CEILING = { fp32: 1.3, tensor: 1.15, memoryBandwidth: 1.1 } as const;
/** Raw PCIe rate per lane (GB/s) by generation, after line coding. */
export const PCIE_LANE_GBPS: Record<number, number> = { 1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563 };

export interface Figures {
  fp32Tflops: number | null;
  fp16Tflops: number | null;
  bf16Tflops: number | null;
  memoryBandwidthGBps: number | null;
  hostToDeviceGBps: number | null;
  deviceToHostGBps: number | null;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const positive = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

export function matrixTflops(f: Figures, backend: 'cuda' | 'webgpu'): number | null {
  if (backend === 'webgpu') return f.fp32Tflops;
  const tensor = [f.fp16Tflops, f.bf16Tflops].filter(positive);
  return tensor.length ? Math.max(...tensor) : f.fp32Tflops;
}

/** The score, or null when FP32 or memory bandwidth is missing (nothing fair to compare). */
export function computeScore(f: Figures, vramGiB: number | null, backend: 'cuda' | 'webgpu'): number | null {
  const ref = referenceSpec();
  const t = matrixTflops(f, backend);
  if (!positive(f.fp32Tflops) || !positive(f.memoryBandwidthGBps) || !positive(t)) return null;
  const v = positive(vramGiB) ? vramGiB : ref.vramGB;
  const s =
    100 *
    (t / ref.tensorTflops!) ** WEIGHTS.tensor *
    (f.fp32Tflops / ref.fp32Tflops) ** WEIGHTS.fp32 *
    (f.memoryBandwidthGBps / ref.memoryBandwidthGBps) ** WEIGHTS.bandwidth *
    (v / ref.vramGB) ** WEIGHTS.vram;
  return s < 1 ? Number(s.toPrecision(2)) : round(s, 1);
}

export function pcieLinkGBps(gen: number, lanes: number): number | null {
  const perLane = PCIE_LANE_GBPS[gen];
  return perLane === undefined || lanes <= 0 ? null : perLane * lanes;
}

export interface Ratios {
  fp32: number | null;
  tensor: number | null;
  memoryBandwidth: number | null;
  hostToDevice: number | null;
  deviceToHost: number | null;
}

/** Measured / specified per figure (transfers against the raw rate of the card's PCIe link). */
export function specRatios(f: Figures, spec: GpuSpec | null, backend: 'cuda' | 'webgpu'): Ratios {
  const r = (measured: number | null, specified: number | null | undefined) => (positive(measured) && positive(specified) ? round(measured / specified, 3) : null);
  const link = spec ? pcieLinkGBps(spec.pcie.gen, spec.pcie.lanes) : null;
  const tensor = backend === 'cuda' ? [f.fp16Tflops, f.bf16Tflops].filter(positive) : [];
  return {
    fp32: r(f.fp32Tflops, spec?.fp32Tflops),
    tensor: r(tensor.length ? Math.max(...tensor) : null, spec?.tensorTflops),
    memoryBandwidth: r(f.memoryBandwidthGBps, spec?.memoryBandwidthGBps),
    hostToDevice: r(f.hostToDeviceGBps, link),
    deviceToHost: r(f.deviceToHostGBps, link),
  };
}

/**
 * How close the card runs to its specification: the geometric mean of its FP32 and memory
 * bandwidth ratios (the figures a healthy card gets close to; tensor throughput through WMMA
 * and PCIe transfers are shown per figure but left out).
 */
export function overallSpecRatio(ratios: Ratios): number | null {
  const parts = [ratios.fp32, ratios.memoryBandwidth].filter(positive);
  if (!parts.length) return null;
  return round(Math.exp(parts.reduce((a, x) => a + Math.log(x), 0) / parts.length), 3);
}

/** Figures above the card's specification by more than the ceiling: measurement errors. */
export function aboveSpec(f: Figures, spec: GpuSpec | null, backend: 'cuda' | 'webgpu'): Partial<Record<keyof Figures, string>> {
  const out: Partial<Record<keyof Figures, string>> = {};
  if (!spec) return out;
  const check = (key: keyof Figures, value: number | null, specified: number | null, ceiling: number, unit: string) => {
    if (positive(value) && positive(specified) && value > specified * ceiling) {
      out[key] = `measurement error: ${key} ${round(value, 1)} ${unit} is above the ${spec.name}'s specification of ${specified} ${unit}, which no card can exceed by that much; the figure is discarded`;
    }
  };
  check('fp32Tflops', f.fp32Tflops, spec.fp32Tflops, SPEC_CEILING.fp32, 'TFLOP/s');
  if (backend === 'cuda') {
    check('fp16Tflops', f.fp16Tflops, spec.tensorTflops, SPEC_CEILING.tensor, 'TFLOP/s');
    check('bf16Tflops', f.bf16Tflops, spec.tensorTflops, SPEC_CEILING.tensor, 'TFLOP/s');
  }
  check('memoryBandwidthGBps', f.memoryBandwidthGBps, spec.memoryBandwidthGBps, SPEC_CEILING.memoryBandwidth, 'GB/s');
  return out;
}

export interface DiagnoseInput {
  spec: GpuSpec | null;
  ratios: Ratios;
  specRatio: number | null;
  throttle: Throttle;
  hostToDeviceGBps: number | null;
  /** Processes other than the benchmark on this GPU while it ran. */
  otherProcesses: { pid: number; name: string }[];
}

/** Sentences a person can act on: why the card may be below its specification. */
export function diagnose(input: DiagnoseInput): string[] {
  const flags: string[] = [];
  const { spec, ratios, specRatio } = input;
  const far = specRatio !== null && specRatio < FAR_BELOW_SPEC;
  if (far) flags.push(`Measured at ${Math.round(specRatio * 100)}% of the ${spec?.name ?? 'card'}'s specification, far below what a healthy card reaches.`);
  if (input.throttle.throttled && input.throttle.reason) flags.push(`Likely ${input.throttle.reason}`);
  if (spec && ratios.hostToDevice !== null && ratios.hostToDevice < PCIE_FLOOR_SHARE) {
    const link = pcieLinkGBps(spec.pcie.gen, spec.pcie.lanes)!;
    flags.push(
      `PCIe link below its width or generation: host-to-device transfers reach ${round(input.hostToDeviceGBps ?? 0, 1)} GB/s where the card's PCIe ${spec.pcie.gen}.0 x${spec.pcie.lanes} link carries about ${round(link, 1)} GB/s. Seat the card in a full-width slot wired to the CPU, and check the slot's generation in the BIOS.`,
    );
  }
  if (input.otherProcesses.length) {
    flags.push(`Another process was using the GPU during the run (${input.otherProcesses.map((p) => `${p.name || 'unknown'} pid ${p.pid}`).join(', ')}): close it and run the benchmark again for a fair figure.`);
  }
  if (far && flags.length === 1) flags.push('No cause showed in telemetry: check the power limit (nvidia-smi -q -d POWER), the cooling and the driver, then run the benchmark again.');
  return flags;
}
