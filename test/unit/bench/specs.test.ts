import { describe, expect, it } from 'vitest';
import { findGpuSpec, GPU_SPECS, normaliseGpuName, REFERENCE_GPU, referenceSpec } from '../../../runtime/bench/specs.js';

describe('the spec table', () => {
  it('has at least 40 GPUs from NVIDIA, AMD and Intel, consumer and data centre, each with a source', () => {
    expect(GPU_SPECS.length).toBeGreaterThanOrEqual(40);
    for (const vendor of ['nvidia', 'amd', 'intel'] as const) expect(GPU_SPECS.filter((s) => s.vendor === vendor).length).toBeGreaterThanOrEqual(vendor === 'nvidia' ? 20 : 3);
    for (const s of GPU_SPECS) {
      expect(s.source.length, s.name).toBeGreaterThan(10);
      expect(s.fp32Tflops, s.name).toBeGreaterThan(0);
      expect(s.memoryBandwidthGBps, s.name).toBeGreaterThan(0);
      expect(s.vramGB, s.name).toBeGreaterThan(0);
      if (s.tensorTflops !== null) expect(s.tensorTflops, s.name).toBeGreaterThan(s.fp32Tflops * 0.9);
    }
    expect(new Set(GPU_SPECS.map((s) => s.name)).size).toBe(GPU_SPECS.length);
  });

  it('every row is found by its own name (no earlier row shadows it)', () => {
    for (const s of GPU_SPECS) expect(findGpuSpec(s.name)?.name, s.name).toBe(s.name);
  });

  it('finds the cards by the names the vendor tools print (from the real captures)', () => {
    const cases: [string, string | null][] = [
      ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100 SXM4 80GB'],
      ['NVIDIA A100-PCIE-40GB', 'NVIDIA A100 40GB PCIe'],
      ['NVIDIA A100 80GB PCIe', 'NVIDIA A100 80GB PCIe'],
      ['NVIDIA A10G', 'NVIDIA A10G'],
      ['Tesla T4', 'NVIDIA T4'],
      ['Tesla V100-SXM3-32GB', 'NVIDIA V100 SXM'],
      ['Tesla V100-PCIE-16GB', 'NVIDIA V100 PCIe'],
      ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 SXM5'],
      ['NVIDIA H100 PCIe', 'NVIDIA H100 PCIe'],
      ['NVIDIA H200', 'NVIDIA H200'],
      ['NVIDIA L40S', 'NVIDIA L40S'],
      ['NVIDIA GeForce RTX 4080 SUPER', 'NVIDIA GeForce RTX 4080 SUPER'],
      ['NVIDIA GeForce RTX 4080', 'NVIDIA GeForce RTX 4080'],
      ['GeForce RTX 2080 Ti', 'NVIDIA GeForce RTX 2080 Ti'],
      ['NVIDIA GeForce GT 1030', 'NVIDIA GeForce GT 1030'],
      ['Quadro P2000', 'NVIDIA Quadro P2000'],
      ['Arcturus GL-XL [Instinct MI100]', 'AMD Instinct MI100'],
      ['Radeon Instinct MI50 32GB', 'AMD Radeon Instinct MI50'],
      ['Navi 22 [Radeon RX 6700/6700 XT / 6800M]', 'AMD Radeon RX 6700 XT'],
      ['Intel(R) Arc(TM) A770 Graphics', 'Intel Arc A770'],
      ['Graphics Device', null],
      ['GRID P4-1Q', null],
      ['', null],
    ];
    for (const [name, want] of cases) expect(findGpuSpec(name)?.name ?? null, name).toBe(want);
  });

  it('normalises vendor words and punctuation away', () => {
    expect(normaliseGpuName('NVIDIA A100-SXM4-80GB')).toBe('a100 sxm4 80gb');
  });

  it('names the reference card', () => {
    expect(referenceSpec().name).toBe(REFERENCE_GPU);
    expect(referenceSpec().tensorTflops).not.toBeNull();
  });
});

describe('docs/benchmarks.md', () => {
  it('lists every row of the spec table with the score and price the code gives it at its specification', async () => {
    const fs = await import('node:fs');
    const { computeScore } = await import('../../../runtime/bench/score.js');
    const { formatPrice, suggestPricePerGpuHour } = await import('../../../runtime/bench/price.js');
    const doc = fs.readFileSync(new URL('../../../docs/benchmarks.md', import.meta.url), 'utf8');
    const rows = new Map(
      doc
        .split('\n')
        .filter((l) => l.startsWith('| ') && l.split('|').length === 11)
        .map((l) => l.split('|').map((c) => c.trim()))
        .map((c) => [c[1]!, { score: c[7]!, price: c[8]! }]),
    );
    for (const s of GPU_SPECS) {
      const score = computeScore({ fp32Tflops: s.fp32Tflops, fp16Tflops: s.tensorTflops, bf16Tflops: null, memoryBandwidthGBps: s.memoryBandwidthGBps, hostToDeviceGBps: null, deviceToHostGBps: null }, s.vramGB, 'cuda');
      const price = formatPrice(suggestPricePerGpuHour({ score, vramGiB: s.vramGB }).pricePerGpuHour);
      expect(rows.get(s.name), s.name).toEqual({ score: String(score), price });
    }
    expect(rows.get(REFERENCE_GPU)).toEqual({ score: '100', price: '0.400' });
  });
});
