/**
 * Live telemetry through the real reader: one long-running fake `nvidia-smi --query-gpu … -lms N`
 * (and a polled fake rocm-smi), restarts with backoff when it dies, and a clear status when it
 * cannot run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import type { TelemetrySample, TelemetryStatus } from '../../../runtime/gpu/schema.js';
import { createGpuService, type GpuService } from '../../../runtime/gpu/service.js';
import { NvidiaTelemetryReader } from '../../../runtime/gpu/nvidia-telemetry.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { until } from '../../helpers/until.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(options: Parameters<typeof makeFakeGpuTools>[0], backoff = { initialMs: 200, maxMs: 3000 }) {
  const fake: FakeGpuTools = makeFakeGpuTools(options);
  const batches: TelemetrySample[][] = [];
  const statuses: TelemetryStatus[] = [];
  const gpu: GpuService = createGpuService({
    env: fake.env(process.env),
    log: silentLogger,
    telemetryIntervalMs: 100,
    telemetryBackoff: backoff,
    onSamples: (s) => batches.push(s),
    onTelemetryStatus: (s) => statuses.push(s),
  });
  cleanups.push(() => fake.cleanup(), () => gpu.stop());
  return { fake, gpu, batches, statuses };
}

describe('NVIDIA telemetry: one long-running nvidia-smi', () => {
  it('produces samples from one process, into the ring buffer and out through onSamples', async () => {
    const { fake, gpu, batches, statuses } = setup({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    await gpu.start();
    await until('10 batches', () => batches.length >= 10);
    // Every tick carries both GPUs with the capture's values.
    const last = batches.at(-1)!;
    expect(last.map((s) => s.gpuIndex)).toEqual([0, 1]);
    expect(last.map((s) => s.uuid)).toEqual(['GPU-57567e11-0be2-381b-5132-2ad95c262e58', 'GPU-ef1d0068-5bfd-f1e4-7e79-ff35d71d44b8']);
    expect(last.every((s) => s.memoryTotalMiB === 10989 && s.fanPct === 22)).toBe(true);
    expect(last.every((s) => s.temperatureC !== null && Math.abs(s.temperatureC - 24) <= 1)).toBe(true);
    expect(last.every((s) => s.smClockMHz !== null && s.powerDrawW !== null && s.utilizationPct !== null)).toBe(true);
    expect(statuses.at(-1)).toEqual({ state: 'running', reason: 'Reading nvidia-smi every 100 ms.' });
    // One reader process, not one per sample (the -q -x call is the inventory).
    const queryCalls = fake.calls().filter((c) => c.args.some((a) => a.startsWith('--query-gpu=')));
    expect(queryCalls).toHaveLength(1);
    expect(queryCalls[0]!.args).toEqual([
      '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,clocks.sm,fan.speed',
      '--format=csv,noheader,nounits',
      '-lms',
      '100',
    ]);
    // The ring buffer holds them, filterable by time.
    const all = gpu.telemetry();
    expect(all.status.state).toBe('running');
    expect(all.samples.length).toBeGreaterThanOrEqual(20);
    const cut = all.samples.at(-3)!.t;
    expect(gpu.telemetry(cut).samples.every((s) => s.t > cut)).toBe(true);
  });

  it('MIG and passive cooling: N/A telemetry values are null, not zero', async () => {
    const { gpu, batches } = setup({ nvidiaXml: 'nvidia-smi-q-x_a100-sxm4-80gb_mig_driver535.54.03_1of4gpus.xml' });
    await gpu.start();
    const [sample] = await until('a batch', () => batches[0]);
    expect(sample).toMatchObject({ gpuIndex: 0, utilizationPct: null, fanPct: null, memoryTotalMiB: 81920, memoryUsedMiB: 50 });
  });

  it('restarts the reader with growing backoff when it dies, and samples resume', async () => {
    const { gpu, batches, statuses } = setup({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' }, { initialMs: 200, maxMs: 3000 });
    await gpu.start();
    const reader = gpu.sources[0] as NvidiaTelemetryReader;
    const restartGaps: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const pid = await until('a running reader', () => reader.pid);
      await until('samples', () => batches.length > 0);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await until('restarting status', () => statuses.at(-1)?.state === 'restarting');
      expect(statuses.at(-1)!.reason).toContain('SIGKILL');
      // 200 ms, 400 ms, 800 ms: the delay doubles on each restart in a row.
      expect(statuses.at(-1)!.reason).toContain(`restarting in ${200 * 2 ** (round - 1)} ms (attempt ${round})`);
      batches.length = 0;
      const newPid = await until('a new reader', () => reader.pid !== undefined && reader.pid !== pid && reader.pid);
      expect(newPid).not.toBe(pid);
      await until('samples after restart', () => batches.length > 0);
      restartGaps.push(Date.now() - killedAt);
    }
    expect(statuses.at(-1)!.state).toBe('running');
    expect(reader.restarts).toBe(3);
    // And it really waited that long before starting the next reader.
    expect(restartGaps[0]).toBeGreaterThanOrEqual(200);
    expect(restartGaps[1]).toBeGreaterThanOrEqual(400);
    expect(restartGaps[2]).toBeGreaterThanOrEqual(800);
  });

  it('a hung nvidia-smi (alive, printing nothing) is noticed by the stall watchdog, killed and restarted; the status says so', async () => {
    const dir = makeTempDir('offshift-hung-smi-');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'nvidia-smi');
    // One reading, then silence: the process stays alive (a driver call that never returns).
    fs.writeFileSync(script, '#!/bin/sh\necho "0, GPU-1, 10, 100, 1000, 55, 50.0, 1500, 30"\nexec sleep 600\n', { mode: 0o755 });
    const statuses: TelemetryStatus[] = [];
    const samples: TelemetrySample[] = [];
    const reader = new NvidiaTelemetryReader({
      env: process.env,
      log: silentLogger,
      intervalMs: 100,
      stallMs: 600,
      backoff: { initialMs: 100, maxMs: 1000 },
      command: script,
      onSamples: (s) => samples.push(...s),
      onStatus: (s) => statuses.push(s),
    });
    cleanups.push(() => reader.stop());
    reader.start();
    const firstPid = await until('a running reader', () => reader.pid);
    await until('a sample', () => samples.length > 0);
    await until('the stall noticed', () => statuses.find((s) => s.state === 'restarting'));
    expect(statuses.find((s) => s.state === 'restarting')!.reason).toMatch(/nvidia-smi stopped answering \(no reading for 1 s\) and was killed\); restarting in 100 ms/);
    expect(reader.stalls).toBeGreaterThanOrEqual(1);
    // The hung process is gone, and a new one reads again.
    await until('a new reader', () => reader.pid !== undefined && reader.pid !== firstPid);
    expect(() => process.kill(firstPid, 0)).toThrow();
    await until('samples from the new reader', () => samples.length > 1);
  });

  it('a tool that cannot run: the status says so in words, and the rest works on', async () => {
    const { gpu, statuses } = setup({ nvidiaFail: {} }, { initialMs: 20, maxMs: 100 });
    expect(await gpu.start()).toEqual([]);
    const status = await until('unavailable', () => statuses.find((s) => s.state === 'unavailable'));
    expect(status.reason).toContain("couldn't communicate with the NVIDIA driver");
    expect(status.reason).toMatch(/Offshift retries every/);
    expect(gpu.telemetry().samples).toEqual([]);
    expect(await gpu.list()).toEqual([]);
  });

  it('the tool vanishing from PATH (uninstalled while running) gives a clear status', async () => {
    const statuses: TelemetryStatus[] = [];
    const reader = new NvidiaTelemetryReader({
      env: { PATH: '/nonexistent' },
      log: silentLogger,
      intervalMs: 100,
      backoff: { initialMs: 10, maxMs: 50 },
      onSamples: () => {},
      onStatus: (s) => statuses.push(s),
    });
    cleanups.push(() => reader.stop());
    reader.start();
    const status = await until('unavailable', () => statuses.find((s) => s.state === 'unavailable'));
    expect(status.reason).toContain('nvidia-smi was not found on PATH');
  });

  it('stop() ends the reader process and reports stopped', async () => {
    const { gpu, statuses } = setup({ nvidiaXml: 'nvidia-smi-q-x_quadro-p2000_driver525.125.06.xml' });
    await gpu.start();
    const reader = gpu.sources[0] as NvidiaTelemetryReader;
    const pid = await until('a running reader', () => reader.pid);
    await gpu.stop();
    expect(statuses.at(-1)!.state).toBe('stopped');
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('AMD telemetry: rocm-smi polled at the interval', () => {
  it('produces samples per card', async () => {
    const { gpu, batches, statuses } = setup({ rocmJson: 'rocm-smi-json_4x-mi100_rocm6.0.2.json' });
    await gpu.start();
    await until('3 batches', () => batches.length >= 3);
    expect(batches[0]!.map((s) => s.gpuIndex)).toEqual([0, 1, 2, 3]);
    expect(batches[0]![0]).toMatchObject({ uuid: '0x79ccd55167a2124a', temperatureC: 53, powerDrawW: 36, smClockMHz: 300, memoryTotalMiB: 32752 });
    expect(statuses.at(-1)!.state).toBe('running');
  });
});
