import { describe, expect, it } from 'vitest';
import { computeScore, overallSpecRatio, specRatios, type Figures } from '../../../runtime/bench/score.js';
import { resultFromProgram, resultFromWebgpu } from '../../../runtime/bench/results.js';
import { findGpuSpec, referenceSpec } from '../../../runtime/bench/specs.js';
import type { WebgpuSubmitInput } from '../../../runtime/bench/schema.js';
import { benchFixture, ctx, RTX3090 } from './helpers.js';

const atSpec = (name: string): Figures => {
  const s = findGpuSpec(name)!;
  return { fp32Tflops: s.fp32Tflops, fp16Tflops: s.tensorTflops, bf16Tflops: null, memoryBandwidthGBps: s.memoryBandwidthGBps, hostToDeviceGBps: null, deviceToHostGBps: null };
};

describe('score', () => {
  it('the reference card at its specification scores 100', () => {
    expect(computeScore(atSpec(referenceSpec().name), 24, 'cuda')).toBe(100);
  });

  it('orders cards the way buyers would: H100 > A100 > RTX 4090 > RTX 3090 > T4', () => {
    const s = (name: string) => computeScore(atSpec(name), findGpuSpec(name)!.vramGB, 'cuda')!;
    expect(s('NVIDIA H100 SXM5')).toBeGreaterThan(s('NVIDIA A100 SXM4 80GB'));
    expect(s('NVIDIA A100 SXM4 80GB')).toBeGreaterThan(s('NVIDIA GeForce RTX 4090'));
    expect(s('NVIDIA GeForce RTX 4090')).toBeGreaterThan(s('NVIDIA GeForce RTX 3090'));
    expect(s('NVIDIA GeForce RTX 3090')).toBeGreaterThan(s('NVIDIA T4'));
  });

  it('follows the documented formula: half the bandwidth costs 2^-0.3 of the score', () => {
    const f = atSpec(referenceSpec().name);
    expect(computeScore({ ...f, memoryBandwidthGBps: f.memoryBandwidthGBps! / 2 }, 24, 'cuda')).toBeCloseTo(100 * 2 ** -0.3, 0);
  });

  it('is null without FP32 or bandwidth (nothing fair to compare)', () => {
    expect(computeScore({ ...atSpec(referenceSpec().name), memoryBandwidthGBps: null }, 24, 'cuda')).toBeNull();
    expect(computeScore({ ...atSpec(referenceSpec().name), fp32Tflops: null }, 24, 'cuda')).toBeNull();
  });

  it('WebGPU uses FP32 for the matrix term (it cannot reach tensor cores)', () => {
    const f = atSpec(referenceSpec().name);
    expect(computeScore(f, 24, 'webgpu')).toBeLessThan(computeScore(f, 24, 'cuda')!);
  });
});

describe('a recorded-form RTX 3090 run through the result rules', () => {
  const r = resultFromProgram(benchFixture('rtx3090-full.synthetic.json').gpus[0]!, ctx());

  it('takes each median, spread and the spec ratio (FP32 and bandwidth against the card’s specification)', () => {
    expect(r.fp32Tflops).toBe(34.11);
    expect(r.bf16Tflops).toBe(68.36);
    expect(r.memoryBandwidthGBps).toBe(822.5);
    expect(r.hostToDeviceGBps).toBe(24.61);
    expect(r.spread.fp32).toBeLessThan(0.03);
    expect(r.specName).toBe('NVIDIA GeForce RTX 3090');
    expect(r.ratios.fp32).toBeCloseTo(34.11 / 35.6, 3);
    expect(r.specRatio).toBeCloseTo(Math.sqrt((34.11 / 35.6) * (822.5 / 936)), 3);
    expect(r.specRatio).toBeGreaterThan(0.9);
    expect(r.score).toBeGreaterThan(50);
    expect(r.score).toBeLessThan(65);
    expect(r.throttled).toBe(false);
    expect(r.flags).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.gpuKey).toBe(RTX3090.uuid);
  });

  it('compares with the last run: "7% slower"', () => {
    const previous = { ...r, score: r.score! / 0.93, measuredAt: r.measuredAt - 7 * 86_400_000 };
    const again = resultFromProgram(benchFixture('rtx3090-full.synthetic.json').gpus[0]!, ctx({ previous }));
    expect(again.changeVsLast).toBeCloseTo(-0.07, 3);
    expect(again.previousAt).toBe(previous.measuredAt);
  });
});

describe('bad figures are measurement errors, never a fast card', () => {
  const r = resultFromProgram(benchFixture('h200-over-peak.synthetic.json').gpus[0]!, { ...ctx(), gpu: null });

  it('a figure the program flagged above the physical peak is discarded', () => {
    expect(r.bf16Tflops).toBeNull();
    expect(r.errors.join('\n')).toMatch(/bf16: measurement error: 1302 is above this card's physical peak/);
  });

  it('1,220 TFLOP/s FP16 on an H200 (dense peak 989) is rejected by the spec check', () => {
    expect(r.fp16Tflops).toBeNull();
    expect(r.errors.join('\n')).toMatch(/fp16Tflops 1220.*above the NVIDIA H200's specification of 989/);
    // FP32 and bandwidth stay: the score falls back to them, it never counts the bogus figure.
    expect(r.fp32Tflops).toBe(64.9);
    expect(r.score).not.toBeNull();
    expect(r.score!).toBeLessThan(computeScore({ ...r, fp16Tflops: 1220.4 }, 140, 'cuda')!);
  });

  it('an unverified figure is discarded with its reason', () => {
    const doc = benchFixture('rtx3090-full.synthetic.json');
    doc.gpus[0]!.figures.fp32!.verified = false;
    const bad = resultFromProgram(doc.gpus[0]!, ctx());
    expect(bad.fp32Tflops).toBeNull();
    expect(bad.errors[0]).toMatch(/fp32: the result was not verified/);
    expect(bad.score).toBeNull();
  });
});

describe('likely reasons for a card far below its specification', () => {
  it('a card in an x4 slot is flagged with the PCIe link and what to do', () => {
    const r = resultFromProgram(benchFixture('rtx3090-pcie-x4.synthetic.json').gpus[0]!, ctx());
    expect(r.flags.join(' ')).toMatch(/PCIe link below its width or generation: host-to-device transfers reach 3\.1 GB\/s .*PCIe 4\.0 x16.*31\.5 GB\/s/);
  });

  it('another process on the GPU is named', () => {
    const r = resultFromProgram(benchFixture('rtx3090-full.synthetic.json').gpus[0]!, ctx({ otherProcesses: [{ pid: 4242, name: 'python' }] }));
    expect(r.flags.join(' ')).toMatch(/Another process .*python pid 4242/);
  });

  it('far below spec with no cause in telemetry says what to check', () => {
    const doc = benchFixture('rtx3090-full.synthetic.json');
    const g = doc.gpus[0]!;
    g.figures.fp32!.median = 20;
    g.figures.memoryBandwidth!.median = 500;
    const r = resultFromProgram(g, ctx());
    expect(r.specRatio).toBeLessThan(0.8);
    expect(r.flags[0]).toMatch(/Measured at 5\d% of the NVIDIA GeForce RTX 3090's specification/);
    expect(r.flags[1]).toMatch(/power limit/);
  });

  it('a GPU lost mid-run keeps what it measured and says what happened', () => {
    const r = resultFromProgram(benchFixture('gpu-lost.synthetic.json').gpus[0]!, ctx());
    expect(r.error).toMatch(/cudaErrorLaunchFailure.*fell off the bus.*dmesg/);
    expect(r.fp32Tflops).toBe(34.12);
    expect(r.score).toBeNull();
  });
});

describe('spec ratios', () => {
  it('an unknown card has no spec ratio', () => {
    const f = atSpec('NVIDIA GeForce RTX 3090');
    expect(overallSpecRatio(specRatios(f, null, 'cuda'))).toBeNull();
  });
});

describe('WebGPU results', () => {
  const input: WebgpuSubmitInput = {
    gpuIndex: 0,
    adapter: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader device; subzero', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: false },
    fp32Tflops: 0.05,
    fp16Tflops: null,
    memoryBandwidthGBps: 4.2,
    spread: { fp32: 0.02, fp16: null, memoryBandwidth: 0.04 },
    runs: { fp32: [0.05, 0.05, 0.05], fp16: [], memoryBandwidth: [4.1, 4.2, 4.3] },
    durationS: 6,
  };
  it('a software adapter never counts for the card: own key, no spec, the adapter named', () => {
    const r = resultFromWebgpu(input, ctx());
    expect(r.backend).toBe('webgpu');
    expect(r.gpuKey).toBe('webgpu:swiftshader-device-subzero');
    expect(r.index).toBeNull();
    expect(r.specRatio).toBeNull();
    expect(r.adapter).toBe('SwiftShader Device (Subzero)');
    expect(r.score).toBeGreaterThan(0);
  });
  it('a hardware adapter is the inventory GPU it names', () => {
    const r = resultFromWebgpu({ ...input, adapter: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3090', isFallbackAdapter: false }, fp32Tflops: 30, memoryBandwidthGBps: 800 }, ctx());
    expect(r.gpuKey).toBe(RTX3090.uuid);
    expect(r.specRatio).toBeGreaterThan(0.8);
  });
});
