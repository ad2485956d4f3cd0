/**
 * The GPU demo job's request and image contents (issue 15), without the engine: what the demo
 * buyer asks for, and what the FROM-scratch image holds. The image made on the real engine, and
 * the program run in it, are in test/integration/demo/gpu-image.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEMO_GPU_BINARY_NAME,
  DEMO_GPU_HEIGHT,
  DEMO_GPU_PRICE_PER_HOUR,
  DEMO_GPU_WIDTH,
  demoGpuJobRequest,
  demoGpuRootfs,
  findDemoGpuBinary,
  onDisk,
} from '../../../runtime/demo/gpu-image.js';
import { demoJobRequest, DEMO_PRICE_PER_HOUR } from '../../../runtime/demo/image.js';
import { MAX_IMAGE_BYTES } from '../../../runtime/jobs/outputs.js';
import { jobRequestSchema } from '../../../protocol/index.js';

const ID = `sha256:${'ab'.repeat(32)}`;

describe('the GPU demo job', () => {
  it('asks for one GPU, a few seconds of GPU time, and its picture in /output; the seed follows the job number as the CPU job does', () => {
    const r = demoGpuJobRequest(ID, 6);
    expect(jobRequestSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({ image: ID, gpus: 1, cpus: 1, memoryMiB: 1024, network: 'none', outputMiB: 8, maxDurationSeconds: 120, reportIntervalSeconds: 5, pricePerHour: DEMO_GPU_PRICE_PER_HOUR.toString() });
    expect(r.command).toEqual(['--seed', '6', '--zoom', '120', '--width', '1280', '--height', '960', '--seconds', '4', '--out', '/output/mandelbrot-gpu-6.png']);
    // The CPU job of the same number draws the same place.
    const cpu = demoJobRequest(ID, 6).command;
    expect(cpu.slice(0, 4)).toEqual(r.command.slice(0, 4));
    // Where the NVIDIA runtime mounts the driver's libraries, in case its loader cache is missing.
    expect(r.env.LD_LIBRARY_PATH).toMatch(/^\/usr\/lib64:/);
    expect(demoGpuJobRequest(ID, 8).command).not.toEqual(r.command);
    // The GPU hour pays twice the CPU job's.
    expect(DEMO_GPU_PRICE_PER_HOUR).toBe(2n * DEMO_PRICE_PER_HOUR);
  });

  it("its picture fits what the dashboard shows (4 MiB) and the job's output cap", () => {
    // An uncompressed PNG: a filter byte and three bytes a pixel per row, and a few hundred bytes of framing.
    const bytes = (DEMO_GPU_WIDTH * 3 + 1) * DEMO_GPU_HEIGHT + 1024;
    expect(bytes).toBeLessThan(MAX_IMAGE_BYTES);
    expect(bytes).toBeLessThan(demoGpuJobRequest(ID, 2).outputMiB * 1024 * 1024);
  });

  it('the image: the program at /render-cuda, the libraries at their own paths, a passwd, the job folders, an empty ld.so.conf', () => {
    const libs = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'];
    const entries = demoGpuRootfs(Buffer.from('program'), libs, (f) => Buffer.from(`bytes of ${f}`));
    const names = entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['render-cuda', 'etc/passwd', 'etc/group', 'etc/ld.so.conf', 'output', 'tmp', 'scratch', 'usr/lib64', 'lib/x86_64-linux-gnu/libc.so.6', 'lib64/ld-linux-x86-64.so.2']));
    const program = entries.find((e) => e.name === DEMO_GPU_BINARY_NAME)!;
    expect(program).toMatchObject({ mode: 0o755, data: Buffer.from('program') });
    expect(entries.find((e) => e.name === 'etc/passwd')!.data!.toString()).toContain('nobody:x:65534:65534');
    expect(entries.find((e) => e.name === 'etc/ld.so.conf')!.data!.length).toBe(0);
    // Each folder before what it holds.
    expect(names.indexOf('lib')).toBeLessThan(names.indexOf('lib/x86_64-linux-gnu/libc.so.6'));
  });

  it('in the packaged app, ldd is given the unpacked copy (a file inside app.asar is readable by the app alone)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offshift-asar-'));
    try {
      const packed = path.join(dir, 'app.asar', 'dist', 'demo-job', 'render-cuda');
      expect(onDisk(packed)).toBe(packed);
      const unpacked = path.join(dir, 'app.asar.unpacked', 'dist', 'demo-job', 'render-cuda');
      fs.mkdirSync(path.dirname(unpacked), { recursive: true });
      fs.writeFileSync(unpacked, 'x');
      expect(onDisk(packed)).toBe(unpacked);
      expect(onDisk('/opt/offshift/dist/demo-job/render-cuda')).toBe('/opt/offshift/dist/demo-job/render-cuda');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is found from OFFSHIFT_DEMO_GPU_JOB_BINARY, and an empty or missing one means none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offshift-gpu-bin-'));
    try {
      const file = path.join(dir, 'render-cuda');
      fs.writeFileSync(file, 'x');
      expect(findDemoGpuBinary({ OFFSHIFT_DEMO_GPU_JOB_BINARY: file })).toBe(file);
      expect(findDemoGpuBinary({ OFFSHIFT_DEMO_GPU_JOB_BINARY: '' })).toBeNull();
      expect(findDemoGpuBinary({ OFFSHIFT_DEMO_GPU_JOB_BINARY: path.join(dir, 'missing') })).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
