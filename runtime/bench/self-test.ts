/**
 * "Ready to earn": each requirement with a verdict and a sentence a person can act on. The
 * item rules are pure (…Item functions); runSelfTest gathers the facts (inventory, host
 * memory, disk, Docker, the newest benchmark results).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Gpu } from '../gpu/schema.js';
import { gpuKey } from '../sandbox/gpu-assign.js';
import { containerGpuItem, diskItemFromFree, dockerItem } from '../system/check.js';
import { probeDocker, type DockerProbe } from '../engine/index.js';
import type { CheckItem } from '../system/schema.js';
import { FAR_BELOW_SPEC } from './score.js';
import type { BenchGpuResult, SelfTest } from './schema.js';
import { comparePassthrough } from './passthrough.js';

/** NVIDIA driver branches: below MIN jobs built for CUDA 12 cannot run; the benchmark program (CUDA 13) needs BENCH. */
export const MIN_NVIDIA_DRIVER = 525;
export const BENCH_NVIDIA_DRIVER = 580;
export const MIN_VRAM_GIB = 8;
export const FAIL_VRAM_GIB = 4;
/** Host-to-device transfer below this (GB/s) makes loading a model slow enough to lose jobs. */
export const PCIE_FLOOR_GBPS = 6;

const GiB = 1024 ** 3;
const list = (gpus: Gpu[]) => gpus.map((g) => `GPU ${g.index}`).join(', ');

export function driverItem(gpus: Gpu[]): CheckItem {
  const base = { id: 'driver-version', title: 'Driver and CUDA version' };
  const nvidia = gpus.filter((g) => g.vendor === 'nvidia');
  if (!nvidia.length) {
    return gpus.some((g) => g.vendor === 'amd')
      ? { ...base, status: 'pass', message: 'AMD GPUs: the ROCm driver answers (rocm-smi).' }
      : { ...base, status: 'fail', message: 'No NVIDIA or AMD GPU with a working driver tool was found: install the GPU driver, then run the self-test again.' };
  }
  const driver = nvidia[0]!.driverVersion;
  const major = driver ? Number(driver.split('.')[0]) : NaN;
  const cuda = nvidia[0]!.cudaVersion;
  const what = `NVIDIA driver ${driver ?? 'unknown'}${cuda ? ` (CUDA ${cuda})` : ''}`;
  if (!Number.isFinite(major)) return { ...base, status: 'warn', message: `${what}: the version could not be read; check nvidia-smi.` };
  if (major < MIN_NVIDIA_DRIVER) return { ...base, status: 'fail', message: `${what} is too old for current job images (CUDA 12 needs ${MIN_NVIDIA_DRIVER} or newer): update the NVIDIA driver.` };
  if (major < BENCH_NVIDIA_DRIVER) {
    return { ...base, status: 'warn', message: `${what} runs CUDA 12 jobs, but the CUDA benchmark needs ${BENCH_NVIDIA_DRIVER} or newer (CUDA 13): update the driver, or use the WebGPU benchmark meanwhile.` };
  }
  return { ...base, status: 'pass', message: `${what} is new enough for jobs and the benchmark.` };
}

export function vramItem(gpus: Gpu[]): CheckItem {
  const base = { id: 'vram', title: 'GPU memory' };
  const known = gpus.filter((g) => g.memoryTotalMiB !== null && (g.vendor === 'nvidia' || g.vendor === 'amd'));
  if (!gpus.some((g) => g.vendor === 'nvidia' || g.vendor === 'amd')) return { ...base, status: 'warn', message: 'No NVIDIA or AMD GPU was found, so there is no GPU memory to check yet.' };
  if (!known.length) return { ...base, status: 'warn', message: 'The GPU memory size is unknown: the driver tool did not report it.' };
  const gib = (g: Gpu) => g.memoryTotalMiB! / 1024;
  const tiny = known.filter((g) => gib(g) < FAIL_VRAM_GIB);
  const small = known.filter((g) => gib(g) < MIN_VRAM_GIB);
  const sizes = known.map((g) => `GPU ${g.index}: ${gib(g).toFixed(0)} GiB`).join(', ');
  if (tiny.length === known.length) return { ...base, status: 'fail', message: `${sizes}: under ${FAIL_VRAM_GIB} GiB, too little for nearly every job.` };
  if (small.length) return { ...base, status: 'warn', message: `${sizes}: ${list(small)} ${small.length === 1 ? 'has' : 'have'} under ${MIN_VRAM_GIB} GiB, which only small jobs fit.` };
  return { ...base, status: 'pass', message: `${sizes}.` };
}

export function hostRamItem(gpus: Gpu[], totalMemBytes: number): CheckItem {
  const base = { id: 'host-ram', title: 'Host memory' };
  const vram = gpus.reduce((sum, g) => sum + (g.memoryTotalMiB ?? 0) * 1024 * 1024, 0);
  const fmt = (b: number) => `${(b / GiB).toFixed(b < 100 * GiB ? 1 : 0)} GiB`;
  if (vram === 0) return { ...base, status: 'pass', message: `${fmt(totalMemBytes)} of memory.` };
  if (totalMemBytes < vram) {
    return { ...base, status: 'fail', message: `${fmt(totalMemBytes)} of memory for ${fmt(vram)} of GPU memory: jobs stage their data in host memory first, so the host needs at least as much as all GPUs together. Add memory or offer fewer GPUs.` };
  }
  return { ...base, status: 'pass', message: `${fmt(totalMemBytes)} of memory, at least the ${fmt(vram)} of all GPUs together.` };
}

/** results: per GPU, its results newest first. */
export function pcieItem(results: BenchGpuResult[][]): CheckItem {
  const base = { id: 'pcie', title: 'Host-to-GPU transfer (PCIe)' };
  const latest = results.map((rs) => rs.find((r) => !r.inContainer && r.backend === 'cuda' && r.hostToDeviceGBps !== null)).filter((r) => r !== undefined);
  if (!latest.length) return { ...base, status: 'warn', message: 'Not measured yet: run the benchmark (offshift bench run, or Run benchmark on the GPUs page).' };
  const slow = latest.filter((r) => r.hostToDeviceGBps! < PCIE_FLOOR_GBPS);
  const figures = latest.map((r) => `GPU ${r.index}: ${r.hostToDeviceGBps!.toFixed(1)} GB/s`).join(', ');
  if (slow.length) {
    return { ...base, status: 'fail', message: `${figures}: below the ${PCIE_FLOOR_GBPS} GB/s floor. Seat the card in a full-width (x16) slot wired to the CPU, check the slot's PCIe generation in the BIOS, and avoid risers.` };
  }
  return { ...base, status: 'pass', message: `${figures} from host to GPU (floor ${PCIE_FLOOR_GBPS} GB/s).` };
}

export function passthroughItem(results: BenchGpuResult[][]): CheckItem {
  const base = { id: 'gpu-passthrough', title: 'GPU passthrough (benchmark in the job container)' };
  for (const rs of results) {
    const inside = rs.find((r) => r.inContainer);
    if (!inside) continue;
    const host = rs.find((r) => !r.inContainer && r.measuredAt <= inside.measuredAt);
    const cmp = host ? comparePassthrough(host, inside) : inside.error ? comparePassthrough(inside, inside) : null;
    if (cmp) return { ...base, status: cmp.status, message: cmp.message };
  }
  return { ...base, status: 'warn', message: 'Not proven yet: run `offshift bench run --in-container` to run the benchmark inside the job container and compare it with the host.' };
}

export function specItem(results: BenchGpuResult[][]): CheckItem {
  const base = { id: 'bench-spec', title: 'Benchmark against specification' };
  const latest = results.map((rs) => rs.find((r) => !r.inContainer && !r.error && r.score !== null)).filter((r) => r !== undefined);
  if (!latest.length) return { ...base, status: 'warn', message: 'No benchmark yet: run one (offshift bench run, or Run benchmark on the GPUs page).' };
  const below = latest.filter((r) => r.specRatio !== null && r.specRatio < FAR_BELOW_SPEC);
  const unknown = latest.filter((r) => r.specRatio === null);
  const parts = latest.map((r) => `GPU ${r.index ?? '?'} ${r.specRatio === null ? `scored ${r.score} (no specification on file for ${r.name})` : `at ${Math.round(r.specRatio * 100)}% of its specification`}`);
  if (below.length) return { ...base, status: 'fail', message: `${parts.join('; ')}. ${below.flatMap((r) => r.flags.slice(1)).join(' ') || 'Check cooling, the power limit and other programs on the GPU.'}` };
  if (unknown.length === latest.length) return { ...base, status: 'warn', message: `${parts.join('; ')}.` };
  return { ...base, status: 'pass', message: `${parts.join('; ')}.` };
}

export interface SelfTestOptions {
  env: NodeJS.ProcessEnv;
  home: string;
  gpus: Gpu[];
  /** A GPU's stored results, newest first. */
  latest: (gpuKey: string) => BenchGpuResult[];
  probe?: DockerProbe;
  totalMemBytes?: number;
  freeDiskBytes?: number;
}

async function freeBytes(home: string): Promise<number | null> {
  try {
    let dir = path.resolve(home);
    while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export async function runSelfTest(opts: SelfTestOptions): Promise<SelfTest> {
  const [probe, free] = await Promise.all([opts.probe ?? probeDocker({ env: opts.env, timeoutMs: 3000 }), opts.freeDiskBytes ?? freeBytes(opts.home)]);
  const results = opts.gpus.map((g) => opts.latest(gpuKey(g)));
  const items: CheckItem[] = [
    driverItem(opts.gpus),
    vramItem(opts.gpus),
    hostRamItem(opts.gpus, opts.totalMemBytes ?? os.totalmem()),
    free === null ? { id: 'disk', title: 'Free disk in the data folder', status: 'warn', message: `Could not read the free space of ${opts.home}.` } : diskItemFromFree(opts.home, free),
    pcieItem(results),
    dockerItem(probe),
    containerGpuItem(opts.gpus, probe),
    passthroughItem(results),
    specItem(results),
  ];
  return { checkedAt: new Date().toISOString(), ready: !items.some((i) => i.status === 'fail'), items };
}
