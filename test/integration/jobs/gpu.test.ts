import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { connectDocker, engineFeatures } from '../../../runtime/engine/index.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from './harness.js';

// This machine has no GPU and no NVIDIA runtime: a GPU as the GPU service would report one
// from a real L40S capture stands in for it. The engine is real.
const l40s: Gpu = {
  index: 0, uuid: 'GPU-6e3f7a10-2c4b-4f55-9d1e-0a1b2c3d4e5f', vendor: 'nvidia', name: 'NVIDIA L40S', memoryTotalMiB: 46068, driverVersion: '595.80',
  cudaVersion: '13.0', pciBusId: '00000000:01:00.0', migMode: null, migDevices: [], processes: [], temperatureC: 31, utilizationPct: 0,
  memoryUsedMiB: 1, powerDrawW: 35, powerLimitW: 350,
};

let image: string;
let hasNvidiaRuntime = false;
const harnesses: Harness[] = [];

describe.skipIf(skipReason !== null)('GPU jobs on a host without the NVIDIA runtime', () => {
  beforeAll(async () => {
    image = sandboxTestImage();
    hasNvidiaRuntime = (await engineFeatures(connectDocker())).nvidiaRuntime;
    if (hasNvidiaRuntime) console.warn('[gpu.test] this engine HAS the NVIDIA runtime: the refusal tests are skipped');
  });
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
  });

  const containersOf = async (h: Harness) => h.docker.listContainers({ all: true, filters: { label: [`io.offshift.agent=${h.runner.agentInstance}`] } });

  it('refuses a GPU job up front, saying how to install the NVIDIA Container Toolkit, leaving nothing behind', async (ctx) => {
    if (hasNvidiaRuntime) ctx.skip();
    const h = makeHarness({ gpus: [l40s] });
    harnesses.push(h);
    const error = await h.runner.submit({ image, command: ['true'], gpus: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'nvidia-runtime-missing' });
    expect((error as Error).message).toMatch(/NVIDIA Container Toolkit.*nvidia-ctk runtime configure/);
    expect(h.runner.list()).toEqual([]);
    expect(await containersOf(h)).toEqual([]);
  });

  it('refuses more GPUs than exist', async () => {
    const h = makeHarness({ gpus: [l40s] });
    harnesses.push(h);
    await expect(h.runner.submit({ image, command: ['true'], gpus: 2 })).rejects.toThrow(/gpus: 2 asked, but this machine has 1 GPU\b/);
  });

  it('if the engine itself refuses the GPU at start, the job fails with its reason and the Created container is removed', async (ctx) => {
    if (hasNvidiaRuntime) ctx.skip();
    const h = makeHarness({ gpus: [l40s], checkNvidiaRuntime: false });
    harnesses.push(h);
    const job = await h.runner.submit({ image, command: ['true'], gpus: [l40s.uuid!] });
    const done = await h.runner.wait(job.id);
    expect(done).toMatchObject({ state: 'failed', reason: 'start-failed' });
    expect(done.detail).toMatch(/nvidia/i);
    expect(done.gpus).toEqual([l40s.uuid]);
    expect(await containersOf(h)).toEqual([]);
  });
});

describe.skipIf(skipReason !== null)('GPU leftovers, read through the real GPU service from a fake nvidia-smi', () => {
  it('takes a GPU where a new process holds memory out of service, refusing jobs for it with the reason', async () => {
    const { makeFakeGpuTools } = await import('../../helpers/fake-gpu-tools.js');
    const { createGpuService } = await import('../../../runtime/gpu/service.js');
    const { silentLogger } = await import('../../../runtime/log.js');
    const { processBaseline } = await import('../../../runtime/sandbox/gpu-assign.js');
    // A real capture of six GTX 1070s mining: compute processes hold memory on them.
    const fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_6x-gtx1070_driver384.66_processes.xml' });
    const service = createGpuService({ env: fake.env(process.env), log: silentLogger, telemetryIntervalMs: 1000, onSamples() {}, onTelemetryStatus() {} });
    const h = makeHarness({ listGpus: () => service.list(), checkNvidiaRuntime: false });
    harnesses.push(h);
    try {
      const gpus = await service.list();
      const busy = gpus.find((g) => g.processes.some((p) => (p.usedMemoryMiB ?? 0) > 0))!;
      expect(busy).toBeDefined();
      // Processes that were there before the job are not its leftovers.
      await h.runner.checkGpusAfterJob([busy.uuid!], processBaseline([busy.uuid!], gpus));
      expect(h.runner.gpusOutOfService().size).toBe(0);
      // Without them in the baseline, they are leftovers: out of service, with the reason.
      await h.runner.checkGpusAfterJob([busy.uuid!], new Map());
      const reason = h.runner.gpusOutOfService().get(busy.uuid!);
      expect(reason).toMatch(/Out of service: after the last job, .*ethminer.*still hold/);
      await expect(h.runner.submit({ image, command: ['true'], gpus: [busy.uuid!] })).rejects.toThrow(/not available: Out of service/);
      expect(h.runner.list()).toEqual([]);
    } finally {
      await service.stop();
      fake.cleanup();
    }
  });
});
