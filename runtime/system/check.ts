/**
 * The items of the system check about this machine (GPU driver, Docker, GPU access for
 * containers, disk, WSL): each as pass / warn / fail with a sentence a person can act on.
 * check/system-check.ts puts them together with the policy's and the benchmark's.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { GpuService } from '../gpu/service.js';
import type { Gpu } from '../gpu/schema.js';
import type { DockerProbe } from '../engine/index.js';
import type { CheckItem } from './schema.js';

const GiB = 1024 ** 3;
/** Below this much free space in the data folder the check fails; below WARN it warns. */
export const DISK_FAIL_BYTES = 5 * GiB;
export const DISK_WARN_BYTES = 20 * GiB;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function gpuDriverItem(gpus: Gpu[], tools: Awaited<ReturnType<GpuService['tools']>>): CheckItem {
  const base = { id: 'gpu-driver', title: 'GPU driver and tool' };
  const installed = tools.filter((t) => t.path);
  const failing = installed.filter((t) => !t.ok);
  const working = installed.filter((t) => t.ok && t.gpuCount > 0);
  if (failing.length > 0 && working.length === 0) {
    return { ...base, status: 'fail', message: failing.map((t) => t.error).join(' '), detail: failing.map((t) => `${t.tool}: ${t.path}`).join('; ') };
  }
  if (working.length > 0) {
    const parts = working.map((t) => {
      const vendorGpus = gpus.filter((g) => g.vendor === (t.tool === 'nvidia-smi' ? 'nvidia' : 'amd'));
      const driver = vendorGpus[0]?.driverVersion;
      const cuda = vendorGpus[0]?.cudaVersion;
      const version = driver ? ` (driver ${driver}${cuda ? `, CUDA ${cuda}` : ''})` : '';
      return `${t.tool}${version} sees ${plural(t.gpuCount, t.tool === 'nvidia-smi' ? 'NVIDIA GPU' : 'AMD GPU')}`;
    });
    const warnings = failing.map((t) => t.error);
    return {
      ...base,
      status: failing.length > 0 ? 'warn' : 'pass',
      message: `${parts.join('; ')}.${warnings.length ? ' ' + warnings.join(' ') : ''}`,
      detail: installed.map((t) => `${t.tool}: ${t.path}`).join('; '),
    };
  }
  if (installed.length > 0) {
    return {
      ...base,
      status: 'fail',
      message: `${installed.map((t) => t.tool).join(' and ')} ran but found no GPU. Check that the GPU is seated and powered and that the driver matches it, then run \`offshift check\` again.`,
    };
  }
  if (gpus.length > 0) {
    return {
      ...base,
      status: 'warn',
      message: `Found ${gpus.map((g) => g.name).join(', ')}, but neither nvidia-smi nor rocm-smi is on PATH: Offshift can list these GPUs but cannot show live telemetry or run GPU jobs on them. Install the NVIDIA driver or AMD ROCm if this GPU supports it.`,
    };
  }
  return {
    ...base,
    status: 'fail',
    message:
      'No GPU driver tool found: neither nvidia-smi (installed with the NVIDIA driver) nor rocm-smi (AMD ROCm) is on PATH, and no other GPU was detected. Install your GPU driver, then run `offshift check` again.',
  };
}

export function dockerItem(probe: DockerProbe): CheckItem {
  const base = { id: 'docker', title: 'Docker engine' };
  if (!probe.reachable) return { ...base, status: 'fail', message: probe.error ?? 'The Docker engine is not reachable.', detail: probe.endpoint };
  const [major] = (probe.version ?? '').split('.').map(Number);
  const old = major !== undefined && Number.isFinite(major) && major < 19;
  return {
    ...base,
    status: old ? 'warn' : 'pass',
    message: old
      ? `Docker ${probe.version} is reachable but older than 19.03, which cannot pass GPUs to containers: upgrade Docker Engine.`
      : `Docker ${probe.version} is reachable at ${probe.endpoint}${probe.apiVersion ? ` (API ${probe.apiVersion})` : ''}.`,
    detail: probe.operatingSystem ?? undefined,
  };
}

/** CDI specs in the engine's CDI folders that name an NVIDIA device ("nvidia.com/gpu"). */
function nvidiaCdiSpecs(dirs: string[]): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /\.(json|ya?ml)$/.test(n))) {
      try {
        if (fs.readFileSync(path.join(dir, name), 'utf8').includes('nvidia.com/gpu')) found.push(path.join(dir, name));
      } catch {}
    }
  }
  return found;
}

export function containerGpuItem(gpus: Gpu[], probe: DockerProbe, fileExists: (p: string) => boolean = fs.existsSync): CheckItem {
  const base = { id: 'container-gpu', title: 'GPU access for containers' };
  const hasNvidia = gpus.some((g) => g.vendor === 'nvidia');
  const hasAmd = gpus.some((g) => g.vendor === 'amd');
  if (!hasNvidia && !hasAmd) {
    return { ...base, status: 'warn', message: 'Not checked: no NVIDIA or AMD GPU was found, so there is nothing to pass to job containers yet.' };
  }
  if (!probe.reachable) {
    return { ...base, status: 'warn', message: 'Not checked: the Docker engine is not reachable (see the Docker item above).' };
  }
  const parts: CheckItem[] = [];
  if (hasNvidia) {
    const cdi = nvidiaCdiSpecs(probe.cdiSpecDirs);
    if (probe.runtimes.includes('nvidia')) {
      parts.push({ ...base, status: 'pass', message: `The NVIDIA container runtime is available to Docker (runtimes: ${probe.runtimes.join(', ')}).` });
    } else if (cdi.length > 0) {
      parts.push({ ...base, status: 'pass', message: `Docker has NVIDIA CDI devices (${cdi.join(', ')}).` });
    } else {
      parts.push({
        ...base,
        status: 'fail',
        message:
          'Docker cannot give containers the NVIDIA GPU: neither the nvidia runtime nor an NVIDIA CDI spec is configured. Install the NVIDIA Container Toolkit, run `sudo nvidia-ctk runtime configure --runtime=docker` and `sudo systemctl restart docker`, then check again.',
        detail: `runtimes: ${probe.runtimes.join(', ') || 'none'}; CDI spec dirs: ${probe.cdiSpecDirs.join(', ') || 'none'}`,
      });
    }
  }
  if (hasAmd) {
    const missing = ['/dev/kfd', '/dev/dri'].filter((p) => !fileExists(p));
    parts.push(
      missing.length === 0
        ? { ...base, status: 'pass', message: 'The AMD compute devices (/dev/kfd, /dev/dri) exist and can be passed to containers.' }
        : { ...base, status: 'fail', message: `${missing.join(' and ')} missing: the amdgpu kernel driver with ROCm support is not loaded. Install ROCm's amdgpu-dkms and reboot.` },
    );
  }
  const worst = parts.find((p) => p.status === 'fail') ?? parts.find((p) => p.status === 'warn') ?? parts[0]!;
  return { ...worst, message: parts.map((p) => p.message).join(' ') };
}

const formatGiB = (bytes: number) => `${(bytes / GiB).toFixed(bytes < 10 * GiB ? 1 : 0)} GiB`;

export function diskItemFromFree(home: string, freeBytes: number): CheckItem {
  const base = { id: 'disk', title: 'Free disk in the data folder' };
  if (freeBytes < DISK_FAIL_BYTES) {
    return { ...base, status: 'fail', message: `Only ${formatGiB(freeBytes)} free in ${home}: job images and outputs need at least ${formatGiB(DISK_FAIL_BYTES)}. Free some space or move the data folder (OFFSHIFT_HOME).` };
  }
  if (freeBytes < DISK_WARN_BYTES) {
    return { ...base, status: 'warn', message: `${formatGiB(freeBytes)} free in ${home}: enough to start, but large job images need ${formatGiB(DISK_WARN_BYTES)} or more. Free some space to take bigger jobs.` };
  }
  return { ...base, status: 'pass', message: `${formatGiB(freeBytes)} free in ${home}.` };
}

export async function diskItem(home: string): Promise<CheckItem> {
  try {
    // The data folder may not exist yet (`offshift check` before the first run): measure the
    // file system it will live on, without creating it.
    let dir = path.resolve(home);
    while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const stats = await fs.promises.statfs(dir);
    return diskItemFromFree(home, stats.bavail * stats.bsize);
  } catch (error) {
    return { id: 'disk', title: 'Free disk in the data folder', status: 'warn', message: `Could not read the free space of ${home}: ${(error as Error).message}.` };
  }
}

/** `wsl --status` prints UTF-16LE on most Windows builds. */
export function decodeWslOutput(buffer: Buffer): string {
  const looksUtf16 = buffer.length > 1 && buffer.subarray(0, Math.min(buffer.length, 64)).filter((b) => b === 0).length > 4;
  return (looksUtf16 ? buffer.toString('utf16le') : buffer.toString('utf8')).replace(/\0/g, '');
}

export function wslItemFromStatus(exitCode: number | null, output: string): CheckItem {
  const base = { id: 'wsl2', title: 'WSL 2 (Windows)' };
  if (exitCode === null) {
    return { ...base, status: 'fail', message: 'WSL is not installed: Docker Desktop needs WSL 2 for GPU jobs. Run `wsl --install` in an administrator terminal, reboot, then check again.' };
  }
  if (exitCode !== 0) {
    return { ...base, status: 'fail', message: `WSL did not report its status (exit code ${exitCode}): run \`wsl --update\`, reboot, then check again.`, detail: output.trim().slice(0, 300) };
  }
  if (/default version:\s*1\b/i.test(output)) {
    return { ...base, status: 'warn', message: 'WSL is installed but its default version is 1: run `wsl --set-default-version 2` so Docker Desktop can use the GPU.' };
  }
  return { ...base, status: 'pass', message: 'WSL 2 is installed.' };
}

export function wslItem(): Promise<CheckItem> {
  return new Promise((resolve) => {
    execFile('wsl.exe', ['--status'], { encoding: 'buffer', timeout: 10_000, windowsHide: true }, (error, stdout) => {
      const err = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (err?.code === 'ENOENT') return resolve(wslItemFromStatus(null, ''));
      resolve(wslItemFromStatus(err ? (typeof err.code === 'number' ? err.code : 1) : 0, decodeWslOutput(stdout)));
    });
  });
}
