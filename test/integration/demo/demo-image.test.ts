/**
 * The demo job for real: its image built from the renderer (dist/demo-job/render) on the real
 * engine, run through the real JobRunner, and the picture it leaves in the job's output folder
 * checked byte for byte as a PNG. A second ensureDemoImage finds the image instead of building.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoJobRequest, DEMO_IMAGE_LABEL, ensureDemoImage, findDemoBinary } from '../../../runtime/demo/image.js';
import type { JobSpecInput } from '../../../runtime/jobs/schema.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';
import { readPng } from './png.js';
import { makeTempDir } from '../../helpers/temp-home.js';

describe.skipIf(skipReason !== null)('the demo job on the real engine', () => {
  let h: Harness;
  let binary: string;
  let variant: string;
  const built: string[] = [];

  beforeAll(() => {
    const found = findDemoBinary();
    if (!found) throw new Error('dist/demo-job/render is missing: run npm run build first (npm test does).');
    binary = found;
    // A copy with a unique tail (ignored by the loader): its own hash, so this run really builds.
    variant = path.join(makeTempDir('offshift-demo-'), 'render');
    fs.writeFileSync(variant, Buffer.concat([fs.readFileSync(binary), Buffer.from(`\n${process.pid}-${Date.now()}\n`)]), { mode: 0o755 });
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.cleanup();
    for (const id of built) await h?.docker.getImage(id).remove({ force: true }).catch(() => {});
    if (variant) fs.rmSync(path.dirname(variant), { recursive: true, force: true });
  });

  it('builds a FROM-scratch image of the one binary, non-root, labelled with its hash; a second call reuses it', async () => {
    const first = await ensureDemoImage(h.docker, { binaryPath: variant });
    built.push(first.imageId);
    expect(first.built).toBe(true);
    expect(first.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const info = await h.docker.getImage(first.imageId).inspect();
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Entrypoint).toEqual(['/render']);
    expect(info.Config.Labels?.[DEMO_IMAGE_LABEL]).toMatch(/^[0-9a-f]{64}$/);
    // FROM scratch: one layer, the binary alone.
    expect(info.RootFS.Layers).toHaveLength(1);

    const again = await ensureDemoImage(h.docker, { binaryPath: variant });
    expect(again).toEqual({ imageId: first.imageId, built: false });
  }, 120_000);

  it('says what to do when the binary is missing', async () => {
    await expect(ensureDemoImage(h.docker, { binaryPath: '/nonexistent/render' })).rejects.toThrow(/run npm run build; a C compiler is needed/);
    await expect(ensureDemoImage(h.docker, { env: { OFFSHIFT_DEMO_JOB_BINARY: '' } })).rejects.toMatchObject({ code: 'demo-job-missing' });
  });

  it('runs through the real runner and leaves a valid PNG in the job output folder', async () => {
    const { imageId } = await ensureDemoImage(h.docker);
    const request = demoJobRequest(imageId, 3);
    expect(request).toMatchObject({ gpus: 0, cpus: 1, memoryMiB: 128, maxDurationSeconds: 120, reportIntervalSeconds: 5 });
    expect(demoJobRequest(imageId, 4).command).not.toEqual(request.command);
    // The request's own argv, at a small size so the test takes a second.
    const spec: JobSpecInput = {
      image: request.image,
      command: [...request.command, '--width', '160', '--height', '120', '--samples', '1'],
      gpus: request.gpus,
      cpus: request.cpus,
      memoryMiB: request.memoryMiB,
      diskMiB: request.diskMiB,
      outputMiB: request.outputMiB,
      timeoutSeconds: request.maxDurationSeconds,
    };
    const job = await h.runner.wait((await h.runner.submit(spec)).id);
    expect(job, job.logTail).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(job.logTail).toContain('rendered 50%');
    expect(job.logTail).toContain('rendered 100%');
    const file = path.join(h.home, 'jobs', job.id, 'output', 'mandelbrot-3.png');
    const png = readPng(fs.readFileSync(file));
    expect(png).toMatchObject({ width: 160, height: 120, bitDepth: 8, colourType: 2, chunks: ['IHDR', 'IDAT', 'IEND'] });
    expect(png.pixels.length).toBe((160 * 3 + 1) * 120);
    // A picture, not a blank: many distinct colours.
    const colours = new Set<number>();
    for (let y = 0; y < 120; y++) for (let x = 0; x < 160; x++) colours.add(png.pixels.readUIntBE(y * 481 + 1 + x * 3, 3));
    expect(colours.size).toBeGreaterThan(200);
  }, 120_000);

  it('bad arguments: the job fails with the renderer saying why', async () => {
    const { imageId } = await ensureDemoImage(h.docker);
    const job = await h.runner.wait((await h.runner.submit({ image: imageId, command: ['--width', '5'], memoryMiB: 64 })).id);
    expect(job).toMatchObject({ state: 'failed', exitCode: 2 });
    expect(job.logTail).toContain('--width must be a whole number from 16 to 4096');
  }, 60_000);
});
