/**
 * The benchmark in the hardened job container, on the real Docker engine, with the real
 * offshift-bench (built by nvcc here; this machine has no GPU and no NVIDIA driver):
 * - the image made of the program and its host libraries runs in the job sandbox (no network,
 *   read-only root, no capabilities, non-root) and prints its report: here the real "no driver";
 * - `bench.run --in-container` through the service and a real runner: on an engine without the
 *   NVIDIA runtime, GPU passthrough fails with the reason and what to do, never a hang.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchImage, createContainerBench, IMAGE_LABEL } from '../../../runtime/bench/container.js';
import { parseProgramOutput } from '../../../runtime/bench/parse.js';
import { createBenchService } from '../../../runtime/bench/service.js';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import { isFinalState, type Job } from '../../../runtime/jobs/schema.js';
import { engineFeatures } from '../../../runtime/engine/index.js';
import { makeHarness, skipReason as dockerSkip, type Harness } from '../jobs/harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROGRAM = path.join(ROOT, 'dist', 'bench', 'offshift-bench');
const skipReason = dockerSkip ?? (fs.existsSync(PROGRAM) ? null : 'dist/bench/offshift-bench is not built (nvcc missing: npm run build says so)');
if (skipReason) console.warn(`[bench container] skipped: ${skipReason}`);

// The RTX 3090 of test/fixtures/gpu/nvidia-smi-q-x_rtx3090_driver525.147.05.xml stands in for a GPU.
const gpu: Gpu = {
  index: 0, uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', vendor: 'nvidia', name: 'NVIDIA GeForce RTX 3090', memoryTotalMiB: 24576, driverVersion: '525.147.05',
  cudaVersion: '12.0', pciBusId: '00000000:01:00.0', migMode: null, migDevices: [], processes: [], temperatureC: 40, utilizationPct: 0, memoryUsedMiB: 1, powerDrawW: 30, powerLimitW: 350,
};

describe.skipIf(skipReason !== null)('offshift-bench in the job container (real engine)', () => {
  let h: Harness;
  beforeAll(() => {
    h = makeHarness({ gpus: [gpu] });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  const waitEnd = (id: string) =>
    new Promise<Job>((resolve) => {
      const off = h.runner.onChange((j) => {
        if (j.id === id && isFinalState(j.state)) {
          off();
          resolve(j);
        }
      });
      const now = h.runner.get(id);
      if (now && isFinalState(now.state)) resolve(now);
    });

  it('the image runs in the sandbox and the program prints its report (no driver here)', async () => {
    const image = await benchImage(h.docker, PROGRAM, silentLogger);
    expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await benchImage(h.docker, PROGRAM, silentLogger)).toBe(image); // imported once per build
    const info = await h.docker.getImage(image).inspect();
    expect(info.Config.Labels?.[IMAGE_LABEL]).toMatch(/^[0-9a-f]{64}$/);
    expect(info.RootFS.Layers).toHaveLength(1);
    const job = await h.runner.submit({ image, command: ['/offshift-bench', '--quick'], memoryMiB: 256, timeoutSeconds: 60 });
    const end = await waitEnd(job.id);
    expect(end.exitCode).toBe(3);
    const line = h.runner.logs(job.id).text.split('\n').find((l) => l.startsWith('{"program"'))!;
    expect(parseProgramOutput(line).error?.code).toBe('no-driver');
  }, 120_000);

  it('bench.run --in-container reports GPU passthrough failing, with the reason, on an engine without the NVIDIA runtime', async (ctx) => {
    if ((await engineFeatures(h.docker)).nvidiaRuntime) ctx.skip();
    const env = { ...process.env, OFFSHIFT_BENCH_PROGRAM: PROGRAM };
    const bench = createBenchService({
      home: h.home,
      env,
      log: silentLogger,
      gpu: { list: async () => [gpu], telemetry: () => ({ status: { state: 'running', reason: '' }, samples: [] }) },
      inContainer: createContainerBench({ runner: h.runner, docker: h.docker, env, log: silentLogger }),
    });
    const out = await bench.run({ inContainer: true, quick: true });
    bench.close();
    expect(out.gpus.map((g) => g.inContainer)).toEqual([false, true]);
    expect(out.gpus[0]!.error).toMatch(/No NVIDIA driver/);
    expect(out.passthrough).toMatchObject({ status: 'fail', message: expect.stringMatching(/GPU passthrough failed.*NVIDIA Container Toolkit/) });
  }, 120_000);
});
