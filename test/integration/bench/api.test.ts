/**
 * The bench.* API of a real in-process agent (real GPU service over a fake nvidia-smi printing
 * a real RTX 3090 capture, real SQLite): WebGPU results are checked as hostile input, scored,
 * stored and listed; progress arrives as bench.progress events; a second run is refused while
 * one runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { ApiError, type Client } from '../../../runtime/api/client.js';
import type { BenchProgress, WebgpuSubmitInput } from '../../../runtime/bench/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'bench', 'rtx3090-full.synthetic.json');
const home = makeTempHome('offshift-bench-api-');
let fake: FakeGpuTools;
let agent: Agent;
let client: Client;

const webgpu: WebgpuSubmitInput = {
  gpuIndex: 0,
  adapter: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3090', isFallbackAdapter: false },
  fp32Tflops: 28.5,
  fp16Tflops: 30.1,
  memoryBandwidthGBps: 790,
  spread: { fp32: 0.01, fp16: 0.02, memoryBandwidth: 0.01 },
  runs: { fp32: [28.4, 28.5, 28.6], fp16: [30, 30.1, 30.2], memoryBandwidth: [789, 790, 791] },
  durationS: 4.2,
};

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).code;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' });
  const program = path.join(home.home, 'standin.sh');
  fs.writeFileSync(program, `#!/bin/sh\nsleep 1\ncat "${FIXTURE}"\n`, { mode: 0o755 });
  agent = createAgent({ home: home.home, env: fake.env({ ...process.env, OFFSHIFT_HOME: home.home, OFFSHIFT_BENCH_PROGRAM: program }), log: silentLogger, telemetryIntervalMs: 200 });
  await agent.start();
  client = agent.client();
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  fake?.cleanup();
  home.cleanup();
});

describe('bench.submitWebgpu', () => {
  it('scores a hardware adapter as the inventory GPU and stores it', async () => {
    const r = await client.call('bench.submitWebgpu', webgpu);
    expect(r).toMatchObject({ backend: 'webgpu', gpuKey: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', adapter: 'NVIDIA GeForce RTX 3090', specName: 'NVIDIA GeForce RTX 3090' });
    expect(r.specRatio).toBeGreaterThan(0.8);
    const { entries } = await client.call('bench.history', {});
    expect(entries[0]!.result.measuredAt).toBe(r.measuredAt);
    expect(entries[0]!.driverVersion).toBe('525.147.05');
  });

  it('refuses hostile input before it reaches the service', async () => {
    const bad: unknown[] = [
      { ...webgpu, fp32Tflops: Number.NaN },
      { ...webgpu, fp32Tflops: -1 },
      { ...webgpu, fp32Tflops: 1e9 },
      { ...webgpu, adapter: { ...webgpu.adapter, description: 'x'.repeat(10_000) } },
      { ...webgpu, runs: { ...webgpu.runs, fp32: Array(1000).fill(1) } },
      { ...webgpu, extra: 'field' },
      { ...webgpu, gpuIndex: -3 },
    ];
    for (const input of bad) expect(await refusal(client.call('bench.submitWebgpu', input as WebgpuSubmitInput))).toBe('invalid-input');
    expect((await client.call('bench.history', {})).entries).toHaveLength(1);
  });
});

describe('bench.run through the agent', () => {
  it('emits bench.progress to done, refuses a second run meanwhile, and compares with the last run', async () => {
    const progress: BenchProgress[] = [];
    const off = client.on('bench.progress', (p) => progress.push(p));
    const first = client.call('bench.run', { quick: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(await refusal(client.call('bench.run', {}))).toBe('bench-busy');
    const out = await first;
    off();
    expect(out.gpus[0]).toMatchObject({ fp32Tflops: 34.11, quick: true, error: null });
    // The WebGPU result above is this GPU's previous scored run: the CUDA run is compared with it.
    expect(out.gpus[0]!.changeVsLast).not.toBeNull();
    expect(progress[0]).toMatchObject({ fraction: 0, done: false, message: expect.stringMatching(/Measuring GPU 0 \(NVIDIA GeForce RTX 3090\)/) });
    expect(progress.at(-1)).toMatchObject({ fraction: 1, done: true, message: 'Benchmark finished.' });
    expect(new Set(progress.map((p) => p.runId)).size).toBe(1);
  });

  it('bench.selfTest answers every item', async () => {
    const t = await client.call('bench.selfTest');
    expect(t.items).toHaveLength(9);
    expect(t.items.find((i) => i.id === 'pcie')?.status).toBe('pass');
  });
});
