/**
 * Public specifications of GPUs: what each card should measure. Pure data and a lookup by the
 * name the vendor tool (nvidia-smi, rocm-smi, the OS, WebGPU) reports.
 *
 * Figures are the vendor's at the reference boost clock:
 * - fp32Tflops: FP32 vector (FMA = 2 flops).
 * - tensorTflops: dense FP16 matrix throughput with FP32 accumulate (what offshift-bench's
 *   WMMA kernel does); on GeForce cards that is half the FP16-accumulate figure vendors headline.
 *   null where the card has no matrix unit (or no published figure).
 * - memoryBandwidthGBps: peak device memory bandwidth.
 * - vramGB: as marketed (decimal GB for HBM data-centre cards, the usual "24 GB" otherwise).
 * - pcie: the host link the card is built for (generation and lanes).
 * Each row names its source. Rows are matched in order: more specific names come first.
 */
export interface GpuSpec {
  name: string;
  vendor: 'nvidia' | 'amd' | 'intel';
  match: RegExp;
  fp32Tflops: number;
  tensorTflops: number | null;
  memoryBandwidthGBps: number;
  vramGB: number;
  pcie: { gen: number; lanes: number };
  source: string;
}

const NV_DC = 'NVIDIA data-centre product page / datasheet';
const TPU = 'TechPowerUp GPU Database entry for the card';
const ADA = 'NVIDIA Ada Lovelace architecture whitepaper (appendix: GeForce RTX 40 series specifications)';
const AMPERE = 'NVIDIA Ampere GA102 architecture whitepaper (appendix tables)';
const TURING = 'NVIDIA Turing architecture whitepaper (appendix tables)';
const BLACKWELL = 'NVIDIA RTX Blackwell GPU architecture whitepaper (appendix tables)';

const spec = (
  name: string,
  vendor: GpuSpec['vendor'],
  match: RegExp,
  fp32Tflops: number,
  tensorTflops: number | null,
  memoryBandwidthGBps: number,
  vramGB: number,
  pcie: [number, number],
  source: string,
): GpuSpec => ({ name, vendor, match, fp32Tflops, tensorTflops, memoryBandwidthGBps, vramGB, pcie: { gen: pcie[0], lanes: pcie[1] }, source });

export const GPU_SPECS: readonly GpuSpec[] = [
  // ── NVIDIA data centre ─────────────────────────────────────────────────
  spec('NVIDIA B200', 'nvidia', /\bb200\b/, 75, 2250, 8000, 180, [5, 16], `${NV_DC} (HGX B200, per GPU)`),
  spec('NVIDIA H200', 'nvidia', /\bh200\b/, 67, 989, 4800, 141, [5, 16], `${NV_DC} (H200 SXM)`),
  spec('NVIDIA H100 NVL', 'nvidia', /\bh100 nvl\b/, 60, 835, 3900, 94, [5, 16], `${NV_DC} (H100 NVL)`),
  spec('NVIDIA H100 PCIe', 'nvidia', /\bh100\b.*\bpcie\b/, 51, 756, 2000, 80, [5, 16], `${NV_DC} (H100 PCIe)`),
  spec('NVIDIA H100 SXM5', 'nvidia', /\bh100\b/, 67, 989, 3350, 80, [5, 16], `${NV_DC} (H100 SXM)`),
  spec('NVIDIA A100 80GB PCIe', 'nvidia', /\ba100\b.*80gb.*pcie|\ba100\b.*pcie.*80gb/, 19.5, 312, 1935, 80, [4, 16], `${NV_DC} (A100 80GB PCIe)`),
  spec('NVIDIA A100 40GB PCIe', 'nvidia', /\ba100\b.*pcie/, 19.5, 312, 1555, 40, [4, 16], `${NV_DC} (A100 40GB PCIe)`),
  spec('NVIDIA A100 SXM4 80GB', 'nvidia', /\ba100\b.*80gb/, 19.5, 312, 2039, 80, [4, 16], `${NV_DC} (A100 80GB SXM)`),
  spec('NVIDIA A100 SXM4 40GB', 'nvidia', /\ba100\b/, 19.5, 312, 1555, 40, [4, 16], `${NV_DC} (A100 40GB SXM)`),
  spec('NVIDIA L40S', 'nvidia', /\bl40s\b/, 91.6, 362, 864, 48, [4, 16], `${NV_DC} (L40S)`),
  spec('NVIDIA L40', 'nvidia', /\bl40\b/, 90.5, 181, 864, 48, [4, 16], `${NV_DC} (L40)`),
  spec('NVIDIA L4', 'nvidia', /\bl4\b/, 30.3, 121, 300, 24, [4, 16], `${NV_DC} (L4)`),
  spec('NVIDIA A10G', 'nvidia', /\ba10g\b/, 31.2, 70, 600, 24, [4, 16], `${TPU} (A10G; AWS G5 instance documentation)`),
  spec('NVIDIA A10', 'nvidia', /\ba10\b/, 31.2, 125, 600, 24, [4, 16], `${NV_DC} (A10)`),
  spec('NVIDIA A40', 'nvidia', /\ba40\b/, 37.4, 149.7, 696, 48, [4, 16], `${NV_DC} (A40)`),
  spec('NVIDIA A30', 'nvidia', /\ba30\b/, 10.3, 165, 933, 24, [4, 16], `${NV_DC} (A30)`),
  spec('NVIDIA T4', 'nvidia', /\bt4\b/, 8.1, 65, 320, 16, [3, 16], `${NV_DC} (T4)`),
  spec('NVIDIA V100 PCIe', 'nvidia', /\bv100\b.*\bpcie\b/, 14, 112, 900, 16, [3, 16], `${NV_DC} (V100 PCIe)`),
  spec('NVIDIA V100 SXM', 'nvidia', /\bv100\b/, 15.7, 125, 900, 32, [3, 16], `${NV_DC} (V100 SXM2/SXM3)`),
  spec('NVIDIA P100', 'nvidia', /\bp100\b/, 9.3, null, 732, 16, [3, 16], `${NV_DC} (P100 PCIe 16GB)`),
  // ── NVIDIA workstation ────────────────────────────────────────────────
  spec('NVIDIA RTX 6000 Ada', 'nvidia', /\brtx 6000 ada\b/, 91.1, 364.2, 960, 48, [4, 16], `${ADA} / NVIDIA RTX 6000 Ada datasheet`),
  spec('NVIDIA RTX A6000', 'nvidia', /\brtx a6000\b/, 38.7, 154.8, 768, 48, [4, 16], `${AMPERE} / NVIDIA RTX A6000 datasheet`),
  spec('NVIDIA RTX A5000', 'nvidia', /\brtx a5000\b/, 27.8, 111.1, 768, 24, [4, 16], 'NVIDIA RTX A5000 datasheet'),
  spec('NVIDIA RTX A4000', 'nvidia', /\brtx a4000\b/, 19.2, 76.7, 448, 16, [4, 16], 'NVIDIA RTX A4000 datasheet'),
  spec('NVIDIA Quadro P2000', 'nvidia', /\bquadro p2000\b/, 3.0, null, 140, 5, [3, 16], TPU),
  spec('NVIDIA Quadro P400', 'nvidia', /\bquadro p400\b/, 0.64, null, 32, 2, [3, 16], TPU),
  // ── NVIDIA GeForce ────────────────────────────────────────────────────
  spec('NVIDIA GeForce RTX 5090', 'nvidia', /\brtx 5090\b/, 104.8, 209.5, 1792, 32, [5, 16], BLACKWELL),
  spec('NVIDIA GeForce RTX 5080', 'nvidia', /\brtx 5080\b/, 56.3, 112.6, 960, 16, [5, 16], BLACKWELL),
  spec('NVIDIA GeForce RTX 4090', 'nvidia', /\brtx 4090\b/, 82.6, 165.2, 1008, 24, [4, 16], ADA),
  spec('NVIDIA GeForce RTX 4080 SUPER', 'nvidia', /\brtx 4080 super\b/, 52.2, 104.4, 736, 16, [4, 16], TPU),
  spec('NVIDIA GeForce RTX 4080', 'nvidia', /\brtx 4080\b/, 48.7, 97.5, 717, 16, [4, 16], ADA),
  spec('NVIDIA GeForce RTX 4070 Ti', 'nvidia', /\brtx 4070 ti\b/, 40.1, 80.2, 504, 12, [4, 16], TPU),
  spec('NVIDIA GeForce RTX 4070', 'nvidia', /\brtx 4070\b/, 29.1, 58.3, 504, 12, [4, 16], TPU),
  spec('NVIDIA GeForce RTX 4060 Ti', 'nvidia', /\brtx 4060 ti\b/, 22.1, 44.2, 288, 8, [4, 8], TPU),
  spec('NVIDIA GeForce RTX 4060', 'nvidia', /\brtx 4060\b/, 15.1, 30.2, 272, 8, [4, 8], TPU),
  spec('NVIDIA GeForce RTX 3090 Ti', 'nvidia', /\brtx 3090 ti\b/, 40, 80, 1008, 24, [4, 16], TPU),
  spec('NVIDIA GeForce RTX 3090', 'nvidia', /\brtx 3090\b/, 35.6, 71, 936, 24, [4, 16], AMPERE),
  spec('NVIDIA GeForce RTX 3080', 'nvidia', /\brtx 3080\b/, 29.8, 59.5, 760, 10, [4, 16], AMPERE),
  spec('NVIDIA GeForce RTX 3070', 'nvidia', /\brtx 3070\b/, 20.3, 40.6, 448, 8, [4, 16], AMPERE),
  spec('NVIDIA GeForce RTX 3060', 'nvidia', /\brtx 3060\b/, 12.7, 25.4, 360, 12, [4, 16], TPU),
  spec('NVIDIA GeForce RTX 2080 Ti', 'nvidia', /\brtx 2080 ti\b/, 13.4, 53.8, 616, 11, [3, 16], TURING),
  spec('NVIDIA GeForce RTX 2080 SUPER', 'nvidia', /\brtx 2080 super\b/, 11.2, 44.6, 496, 8, [3, 16], TPU),
  spec('NVIDIA GeForce RTX 2070', 'nvidia', /\brtx 2070\b/, 7.5, 29.9, 448, 8, [3, 16], TURING),
  spec('NVIDIA GeForce GTX 1660 Ti', 'nvidia', /\bgtx 1660 ti\b/, 5.4, null, 288, 6, [3, 16], TPU),
  spec('NVIDIA GeForce GTX 1080 Ti', 'nvidia', /\bgtx 1080 ti\b/, 11.3, null, 484, 11, [3, 16], TPU),
  spec('NVIDIA GeForce GTX 1070', 'nvidia', /\bgtx 1070\b/, 6.5, null, 256, 8, [3, 16], TPU),
  spec('NVIDIA GeForce GT 1030', 'nvidia', /\bgt 1030\b/, 1.1, null, 48, 2, [3, 4], TPU),
  // ── AMD ───────────────────────────────────────────────────────────────
  spec('AMD Instinct MI300X', 'amd', /\bmi300x\b/, 163.4, 1307.4, 5300, 192, [5, 16], 'AMD Instinct MI300X data sheet'),
  spec('AMD Instinct MI250X', 'amd', /\bmi250x\b/, 47.9, 383, 3277, 128, [4, 16], 'AMD Instinct MI250X data sheet'),
  spec('AMD Instinct MI210', 'amd', /\bmi210\b/, 22.6, 181, 1638, 64, [4, 16], 'AMD Instinct MI210 data sheet'),
  spec('AMD Instinct MI100', 'amd', /\bmi100\b/, 23.1, 184.6, 1229, 32, [4, 16], 'AMD Instinct MI100 data sheet'),
  spec('AMD Radeon Instinct MI50', 'amd', /\bmi50\b/, 13.3, null, 1024, 32, [4, 16], 'AMD Radeon Instinct MI50 data sheet'),
  spec('AMD Radeon PRO W7900', 'amd', /\bw7900\b/, 61.3, 122.6, 864, 48, [4, 16], 'AMD Radeon PRO W7900 product page'),
  spec('AMD Radeon RX 7900 XTX', 'amd', /\b7900 xtx\b/, 61.4, 122.8, 960, 24, [4, 16], 'AMD Radeon RX 7900 XTX product page'),
  spec('AMD Radeon RX 7900 XT', 'amd', /\b7900 xt\b/, 51.5, 103, 800, 20, [4, 16], 'AMD Radeon RX 7900 XT product page'),
  spec('AMD Radeon RX 6900 XT', 'amd', /\b6900 xt\b/, 23, null, 512, 16, [4, 16], TPU),
  spec('AMD Radeon RX 6700 XT', 'amd', /\b6700\b/, 13.2, null, 384, 12, [4, 16], TPU),
  spec('AMD Radeon RX Vega 64', 'amd', /\bvega ?64\b|\bvega 10 xt\b/, 12.7, null, 484, 8, [3, 16], TPU),
  // ── Intel ─────────────────────────────────────────────────────────────
  spec('Intel Data Center GPU Max 1550', 'intel', /\bmax 1550\b/, 52.4, 838.9, 3277, 128, [5, 16], 'Intel Data Center GPU Max 1550 product brief'),
  spec('Intel Arc B580', 'intel', /\bb580\b/, 13.7, 116.5, 456, 12, [4, 8], 'Intel Arc B580 product page / TechPowerUp GPU Database'),
  spec('Intel Arc A770', 'intel', /\ba770\b/, 19.7, 138, 560, 16, [4, 16], 'Intel Arc A770 product page / TechPowerUp GPU Database'),
  spec('Intel Arc A750', 'intel', /\ba750\b/, 17.2, null, 512, 8, [4, 16], TPU),
];

/** The reference card: scores 100 when it measures exactly its specification. */
export const REFERENCE_GPU = 'NVIDIA GeForce RTX 4090';

/** Lower case, vendor words and punctuation out: "NVIDIA A100-SXM4-80GB" → "a100 sxm4 80gb". */
export function normaliseGpuName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\((r|tm)\)/g, ' ')
    .replace(/[-_/[\],()]+/g, ' ')
    .replace(/\b(nvidia|geforce|tesla|amd|ati|radeon|instinct|intel|corporation)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The spec row for a reported GPU name, or null (an unknown card: no spec ratio). */
export function findGpuSpec(name: string): GpuSpec | null {
  const n = normaliseGpuName(name);
  if (!n) return null;
  return GPU_SPECS.find((s) => s.match.test(n)) ?? null;
}

export function referenceSpec(): GpuSpec {
  return GPU_SPECS.find((s) => s.name === REFERENCE_GPU)!;
}
