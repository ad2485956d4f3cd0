/**
 * The GPU demo job for real, as far as a machine without a GPU allows (issue 15): the CUDA program
 * built with nvcc, its FROM-scratch image made on the real engine (the program, the C libraries it
 * and the driver's libcuda need, nothing else), and the program run in that image through the real
 * JobRunner: with --cpu it renders a valid PNG and its record into /output (so the image's loader
 * and libraries work in the hardened container), and asked for the GPU it says that no driver is
 * reachable, exit 3. Rendering on a GPU runs only where Docker has the NVIDIA runtime and
 * nvidia-smi sees a card; elsewhere that test is skipped and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GPU_IMAGE_LABEL, demoGpuJobRequest, demoGpuLibraries, ensureDemoGpuImage, findDemoGpuBinary } from '../../../runtime/demo/gpu-image.js';
import { engineFeatures } from '../../../runtime/engine/index.js';
import { readInventory } from '../../../runtime/gpu/inventory.js';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import type { JobSpecInput } from '../../../runtime/jobs/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';
import { readPng } from './png.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD = path.join(ROOT, 'resources', 'demo-gpu-job', 'build.mjs');

function findNvcc(): string | null {
  for (const candidate of [process.env.OFFSHIFT_NVCC, 'nvcc', '/usr/local/cuda/bin/nvcc']) {
    if (!candidate) continue;
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

const nvcc = findNvcc();
const noNvcc = nvcc ? null : 'nvcc (the CUDA toolkit) is not installed, so the GPU demo job cannot be built here; the demo buyer then sends CPU jobs only';
if (noNvcc) console.warn(`[skipped] building the GPU demo job: ${noNvcc}`);
if (skipReason) console.warn(`[skipped] the GPU demo job's image on the real engine: ${skipReason}`);

describe.skipIf(noNvcc !== null)('the GPU demo job: built with nvcc', () => {
  it('builds a program that needs only the C library (the CUDA runtime, libstdc++ and libgcc linked in)', () => {
    const dir = makeTempDir('offshift-gpu-build-');
    try {
      const out = path.join(dir, 'render-cuda');
      const said = execFileSync(process.execPath, [BUILD, '--out', out], { encoding: 'utf8', timeout: 10 * 60_000 });
      expect(said).toMatch(/demo-gpu-job: built .*render-cuda with .*nvcc in \d+ s \(sm_75, .*sm_120; libstdc\+\+ (static|shared)\)/);
      const elf = fs.readFileSync(out);
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      const ldd = execFileSync('ldd', [out], { encoding: 'utf8' });
      expect(ldd).toMatch(/libc\.so\.6/);
      expect(ldd).not.toMatch(/libcudart/);
      if (said.includes('libstdc++ static')) expect(ldd).not.toMatch(/libstdc\+\+/);
      // Its usage, on any machine.
      const usage = spawnSync(out, ['--width', '5'], { encoding: 'utf8' });
      expect(usage.status).toBe(2);
      expect(usage.stderr).toContain('--width must be a whole number from 16 to 4096');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 10 * 60_000);

  it('without nvcc the build says so in one line and succeeds (the demo then sends CPU jobs only)', () => {
    const dir = makeTempDir('offshift-gpu-build-');
    try {
      const said = execFileSync(process.execPath, [BUILD, '--out', path.join(dir, 'render-cuda')], { encoding: 'utf8', env: { ...process.env, OFFSHIFT_NVCC: '' } });
      expect(said.trim()).toBe('demo-gpu-job: nvcc not found, the GPU demo job is not built (the demo buyer sends CPU jobs only); install the CUDA toolkit to build it.');
      expect(fs.existsSync(path.join(dir, 'render-cuda'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A job of the GPU image, on no GPU unless the caller says. */
const specOf = (imageId: string, command: string[], env: Record<string, string>): JobSpecInput => ({ image: imageId, command, env, gpus: 0, cpus: 1, memoryMiB: 1024, diskMiB: 64, outputMiB: 8, timeoutSeconds: 120 });

const noProgram = !findDemoGpuBinary() ? 'dist/demo-job/render-cuda is not built (npm run build where nvcc is)' : null;
if (noProgram && !skipReason) console.warn(`[skipped] the GPU demo job's image on the real engine: ${noProgram}`);

describe.skipIf(skipReason !== null || noProgram !== null)("the GPU demo job's image on the real engine", () => {
  let h: Harness;
  let variant: string;
  const built: string[] = [];

  beforeAll(() => {
    // A copy with a unique tail (ignored by the loader): its own hash, so this run really makes the image.
    variant = path.join(makeTempDir('offshift-demo-gpu-'), 'render-cuda');
    fs.writeFileSync(variant, Buffer.concat([fs.readFileSync(findDemoGpuBinary()!), Buffer.from(`\n${process.pid}-${Date.now()}\n`)]), { mode: 0o755 });
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.cleanup();
    for (const id of built) await h?.docker.getImage(id).remove({ force: true }).catch(() => {});
    if (variant) fs.rmSync(path.dirname(variant), { recursive: true, force: true });
  });

  it('makes a FROM-scratch image: the program, the C libraries it and libcuda need, non-root, labelled; a second call reuses it', async () => {
    const libs = demoGpuLibraries(variant);
    expect(libs.map((l) => path.basename(l))).toEqual(expect.arrayContaining(['libc.so.6']));
    for (const name of ['libdl.so.2', 'libpthread.so.0', 'librt.so.1']) {
      const beside = path.join(path.dirname(libs.find((l) => path.basename(l) === 'libc.so.6')!), name);
      if (fs.existsSync(beside)) expect(libs).toContain(beside);
    }
    const first = await ensureDemoGpuImage(h.docker, { binaryPath: variant });
    built.push(first.imageId);
    expect(first.built).toBe(true);
    const info = await h.docker.getImage(first.imageId).inspect();
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Entrypoint).toEqual(['/render-cuda']);
    expect(info.Config.Labels?.[DEMO_GPU_IMAGE_LABEL]).toMatch(/^[0-9a-f]{64}$/);
    expect(info.RootFS.Layers).toHaveLength(1);
    console.log(`[gpu demo image] ${(info.Size / 1024 / 1024).toFixed(1)} MiB (${info.Size} bytes): the program ${(fs.statSync(variant).size / 1024 / 1024).toFixed(1)} MiB and ${libs.length} libraries`);
    expect(info.Size).toBeLessThan(32 * 1024 * 1024);
    expect(await ensureDemoGpuImage(h.docker, { binaryPath: variant })).toEqual({ imageId: first.imageId, built: false });
  }, 120_000);

  it('says what to do when the program is missing', async () => {
    await expect(ensureDemoGpuImage(h.docker, { binaryPath: '/nonexistent/render-cuda' })).rejects.toMatchObject({ code: 'demo-gpu-job-missing', message: expect.stringMatching(/npm run build where the CUDA toolkit's nvcc is installed/) });
  });

  it('in the hardened job container, the same program renders on the CPU (--cpu): a valid PNG and its record in /output', async () => {
    const { imageId } = await ensureDemoGpuImage(h.docker);
    const request = demoGpuJobRequest(imageId, 3);
    // The request's own argv (its output name), at a small size, on the CPU: what a machine without a GPU can check.
    const out = request.command[request.command.indexOf('--out') + 1]!;
    const job = await h.runner.wait((await h.runner.submit(specOf(imageId, ['--cpu', '--seed', '3', '--width', '160', '--height', '120', '--max-samples', '2', '--out', out], request.env))).id);
    expect(job, job.logTail).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(job.logTail).toContain('rendered 100%');
    expect(job.logTail).toMatch(/render-cuda: wrote \/output\/mandelbrot-gpu-3\.png \(160x120, 4 samples a pixel\)/);
    const dir = path.join(h.home, 'jobs', job.id, 'output');
    const png = readPng(fs.readFileSync(path.join(dir, 'mandelbrot-gpu-3.png')));
    expect(png).toMatchObject({ width: 160, height: 120, bitDepth: 8, colourType: 2, chunks: ['IHDR', 'IDAT', 'IEND'] });
    const colours = new Set<number>();
    for (let y = 0; y < 120; y++) for (let x = 0; x < 160; x++) colours.add(png.pixels.readUIntBE(y * 481 + 1 + x * 3, 3));
    expect(colours.size).toBeGreaterThan(200);
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'mandelbrot-gpu-3.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ program: 'render-cuda', onGpu: false, width: 160, height: 120, seed: 3, samplesPerPixel: 4 });
    expect(record.device).toMatch(/the CPU/);
  }, 120_000);

  it('asked for the GPU in a container given none, it says no NVIDIA driver is reachable (exit 3): running on a GPU cannot be checked on this machine', async () => {
    const { imageId } = await ensureDemoGpuImage(h.docker);
    const request = demoGpuJobRequest(imageId, 4);
    const job = await h.runner.wait((await h.runner.submit(specOf(imageId, request.command, request.env))).id);
    expect(job).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(job.logTail).toMatch(/render-cuda: no NVIDIA driver is reachable: the job was not given a GPU/);
    // Nothing half-written: the check comes before the file is opened.
    expect(fs.readdirSync(path.join(h.home, 'jobs', job.id, 'output'))).toEqual([]);
  }, 120_000);
});

/** Where the GPU job can run for real: Docker's NVIDIA runtime and a card nvidia-smi sees. */
async function gpuHere(): Promise<{ gpu: Gpu } | string> {
  if (skipReason) return skipReason;
  if (!findDemoGpuBinary()) return 'the GPU demo job is not built';
  try {
    const { connectDocker } = await import('../../../runtime/engine/index.js');
    if (!(await engineFeatures(connectDocker())).nvidiaRuntime) return "Docker has no NVIDIA runtime on this machine, so running the GPU job on a GPU cannot be verified here";
  } catch (error) {
    return `Docker could not be asked (${(error as Error).message})`;
  }
  const { gpus } = await readInventory({ env: process.env, log: silentLogger, genericTimeoutMs: 1 });
  const gpu = gpus.find((g) => g.vendor === 'nvidia' && g.uuid);
  return gpu ? { gpu } : 'no NVIDIA GPU here, so running the GPU job on a GPU cannot be verified on this machine';
}
const here = await gpuHere();
if (typeof here === 'string') console.warn(`[skipped] the GPU demo job on a real GPU: ${here}`);

describe.skipIf(typeof here === 'string')('the GPU demo job on a real GPU', () => {
  it('renders the full picture on the GPU within its few seconds, and says which GPU', async () => {
    const { gpu } = here as { gpu: Gpu };
    const h = makeHarness({ gpus: [gpu] });
    try {
      const { imageId } = await ensureDemoGpuImage(h.docker);
      const request = demoGpuJobRequest(imageId, 2);
      const job = await h.runner.wait((await h.runner.submit({ ...specOf(imageId, request.command, request.env), gpus: [gpu.uuid!] })).id);
      expect(job, job.logTail).toMatchObject({ state: 'succeeded', exitCode: 0 });
      expect(job.logTail).toContain('rendered 100%');
      const dir = path.join(h.home, 'jobs', job.id, 'output');
      expect(readPng(fs.readFileSync(path.join(dir, 'mandelbrot-gpu-2.png')))).toMatchObject({ width: 1280, height: 960 });
      const record = JSON.parse(fs.readFileSync(path.join(dir, 'mandelbrot-gpu-2.json'), 'utf8')) as { device: string; onGpu: boolean; seconds: number; samplesPerPixel: number };
      expect(record.onGpu).toBe(true);
      expect(record.device).toContain(gpu.name.replace(/^NVIDIA /, ''));
      expect(record.seconds).toBeLessThan(10);
      expect(record.samplesPerPixel).toBeGreaterThanOrEqual(1);
    } finally {
      await h.cleanup();
    }
  }, 180_000);
});
