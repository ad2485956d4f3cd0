/**
 * Every `nvidia-smi -q -x` and `rocm-smi --json` capture in test/fixtures/gpu, through the real
 * code path: a fake tool first on PATH prints the capture, the GPU service runs it and parses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { gpuSchema, type Gpu } from '../../../runtime/gpu/schema.js';
import { createGpuService, type GpuService } from '../../../runtime/gpu/service.js';
import { gpuFixtures, makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempDir } from '../../helpers/temp-home.js';

interface Expected {
  count: number;
  names: string[];
  memoryTotalMiB: (number | null)[];
  driverVersion: string | null;
  cudaVersion: string | null;
  pciBusId0: string;
  /** Spot values of GPU 0 that the user sees. */
  gpu0?: Partial<Gpu>;
  processes?: { gpu: number; count: number; first?: Gpu['processes'][number] }[];
}

const NVIDIA: Record<string, Expected> = {
  'nvidia-smi-q-x_2x-rtx2070_driver590.44.01.xml': {
    count: 2, names: ['NVIDIA GeForce RTX 2070', 'NVIDIA GeForce RTX 2070'], memoryTotalMiB: [8192, 8192], driverVersion: '590.44.01', cudaVersion: '13.1', pciBusId0: '00000000:01:00.0',
    // DTD v13: gpu_power_readings/instant_power_draw + current_power_limit; average_power_draw N/A.
    gpu0: { uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', powerDrawW: 9.23, powerLimitW: 175, temperatureC: 14, migMode: null },
  },
  'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml': {
    count: 2, names: ['GeForce RTX 2080 Ti', 'GeForce RTX 2080 Ti'], memoryTotalMiB: [10989, 10989], driverVersion: '410.73', cudaVersion: '10.0', pciBusId0: '00000000:02:00.0',
    gpu0: { uuid: 'GPU-57567e11-0be2-381b-5132-2ad95c262e58', powerDrawW: 2.12, powerLimitW: 250, migMode: null, utilizationPct: 0, memoryUsedMiB: 0 },
  },
  'nvidia-smi-q-x_6x-gtx1070_driver384.66_processes.xml': {
    count: 6, names: Array(6).fill('GeForce GTX 1070'), memoryTotalMiB: [8112, 8114, 8114, 8114, 8114, 8114], driverVersion: '384.66', cudaVersion: null, pciBusId0: '00000000:01:00.0',
    gpu0: { utilizationPct: 100, temperatureC: 60, powerDrawW: 119.47, powerLimitW: 180 },
    processes: [
      { gpu: 0, count: 3, first: { pid: 1357, name: '/usr/lib/xorg/Xorg', usedMemoryMiB: 99 } },
      { gpu: 5, count: 1, first: { pid: 3093, name: './ethminer', usedMemoryMiB: 2283 } },
    ],
  },
  'nvidia-smi-q-x_a100-sxm4-80gb_mig_driver535.54.03_1of4gpus.xml': {
    count: 1, names: ['NVIDIA A100-SXM4-80GB'], memoryTotalMiB: [81920], driverVersion: '535.54.03', cudaVersion: '12.2', pciBusId0: '00000000:01:00.0',
    gpu0: {
      migMode: 'enabled',
      migDevices: [3, 4, 5, 6].map((gpuInstanceId) => ({ gpuInstanceId, memoryTotalMiB: 19968, multiprocessorCount: 14 })),
      utilizationPct: null, // N/A under MIG
      powerDrawW: 67.03,
      powerLimitW: 500,
    },
    processes: [{ gpu: 0, count: 0 }],
  },
  'nvidia-smi-q-x_a10g_driver515.105.01.xml': {
    count: 1, names: ['NVIDIA A10G'], memoryTotalMiB: [23028], driverVersion: '515.105.01', cudaVersion: '11.7', pciBusId0: '00000000:00:1E.0',
    gpu0: { powerDrawW: 25.58, powerLimitW: 300, migMode: null },
    processes: [{ gpu: 0, count: 1, first: { pid: 725, name: '/usr/lib/xorg/Xorg', usedMemoryMiB: 22 } }],
  },
  'nvidia-smi-q-x_grid-p4-1q-vgpu_driver513.46_windows_processes.xml': {
    count: 1, names: ['GRID P4-1Q'], memoryTotalMiB: [1024], driverVersion: '513.46', cudaVersion: '11.6', pciBusId0: '00000000:00:0B.0',
    // vGPU guest on Windows: no power readings, processes without names or memory.
    gpu0: { powerDrawW: null, powerLimitW: null, memoryUsedMiB: 807 },
    processes: [{ gpu: 0, count: 13, first: { pid: 1188, name: '', usedMemoryMiB: null } }],
  },
  'nvidia-smi-q-x_gt1030_driver470.74_processes.xml': {
    count: 1, names: ['NVIDIA GeForce GT 1030'], memoryTotalMiB: [1998], driverVersion: '470.74', cudaVersion: '11.4', pciBusId0: '00000000:2D:00.0',
    gpu0: { powerDrawW: null, powerLimitW: 30, temperatureC: 36 },
    processes: [{ gpu: 0, count: 10, first: { pid: 607, name: '/usr/lib/Xorg', usedMemoryMiB: 547 } }],
  },
  'nvidia-smi-q-x_gtx1660ti_driver418.43.xml': {
    count: 1, names: ['Graphics Device'], memoryTotalMiB: [5912], driverVersion: '418.43', cudaVersion: '10.1', pciBusId0: '00000000:43:00.0',
    gpu0: { powerDrawW: 8.93, powerLimitW: 130 },
  },
  'nvidia-smi-q-x_quadro-p2000_driver525.125.06.xml': {
    count: 1, names: ['Quadro P2000'], memoryTotalMiB: [5120], driverVersion: '525.125.06', cudaVersion: '12.0', pciBusId0: '00000000:17:00.0',
    gpu0: { powerDrawW: 4.61, powerLimitW: 75, temperatureC: 34 },
  },
  'nvidia-smi-q-x_quadro-p400_driver418.43.xml': {
    count: 1, names: ['Quadro P400'], memoryTotalMiB: [1998], driverVersion: '418.43', cudaVersion: '10.1', pciBusId0: '00000000:43:00.0',
    gpu0: { powerDrawW: null, powerLimitW: null }, // N/A on this card
  },
  'nvidia-smi-q-x_rtx3060_driver570.124.04.xml': {
    count: 1, names: ['NVIDIA GeForce RTX 3060'], memoryTotalMiB: [12288], driverVersion: '570.124.04', cudaVersion: '12.8', pciBusId0: '00000000:2D:00.0',
    gpu0: { powerDrawW: 11.63, powerLimitW: 170, memoryUsedMiB: 116 },
  },
  'nvidia-smi-q-x_rtx3080_driver536.40_windows.xml': {
    count: 1, names: ['NVIDIA GeForce RTX 3080'], memoryTotalMiB: [10240], driverVersion: '536.40', cudaVersion: '12.2', pciBusId0: '00000000:04:00.0',
    gpu0: { powerDrawW: 22.78, powerLimitW: 336, memoryUsedMiB: 1128 },
  },
  'nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml': {
    count: 1, names: ['NVIDIA GeForce RTX 3080'], memoryTotalMiB: [10240], driverVersion: '595.58.03', cudaVersion: '13.2', pciBusId0: '00000000:0C:00.0',
    gpu0: { powerDrawW: 142.33, powerLimitW: 320, utilizationPct: 65, memoryUsedMiB: 9184 },
  },
  'nvidia-smi-q-x_rtx3090_driver525.147.05.xml': {
    count: 1, names: ['NVIDIA GeForce RTX 3090'], memoryTotalMiB: [24576], driverVersion: '525.147.05', cudaVersion: '12.0', pciBusId0: '00000000:00:10.0',
    gpu0: { powerDrawW: 27.23, powerLimitW: 200, temperatureC: 37 },
  },
  'nvidia-smi-q-x_tesla-t4_driver515.105.01_processes.xml': {
    count: 1, names: ['Tesla T4'], memoryTotalMiB: [15360], driverVersion: '515.105.01', cudaVersion: '11.7', pciBusId0: '00000000:00:1E.0',
    gpu0: { powerDrawW: 26.78, powerLimitW: 70, memoryUsedMiB: 1032 },
    processes: [{ gpu: 0, count: 2, first: { pid: 675, name: '/usr/lib/xorg/Xorg', usedMemoryMiB: 22 } }],
  },
  'nvidia-smi-q-x_v100-sxm3-32gb_driver410.104_retired-pages_1of16gpus.xml': {
    count: 1, names: ['Tesla V100-SXM3-32GB'], memoryTotalMiB: [32480], driverVersion: '410.104', cudaVersion: '10.0', pciBusId0: '00000000:34:00.0',
    gpu0: { powerDrawW: 50.6, powerLimitW: 350 },
  },
};

const ROCM: Record<string, Expected> = {
  'rocm-smi-json_4x-mi100_rocm6.0.2.json': {
    count: 4, names: Array(4).fill('Arcturus GL-XL [Instinct MI100]'), memoryTotalMiB: Array(4).fill(32752), driverVersion: '6.3.6', cudaVersion: null, pciBusId0: '0000:83:00.0',
    gpu0: { uuid: '0x79ccd55167a2124a', temperatureC: 53, powerDrawW: 36, powerLimitW: 290, utilizationPct: 0 },
  },
  'rocm-smi-json_6x-mi100_rocm5.7.1.json': {
    count: 6, names: Array(6).fill('Arcturus GL-XL [Instinct MI100]'), memoryTotalMiB: Array(6).fill(32752), driverVersion: '6.2.4', cudaVersion: null, pciBusId0: '0000:1E:00.0',
    gpu0: { uuid: null, temperatureC: 31, powerDrawW: 39 }, // Unique ID N/A
  },
  'rocm-smi-json_mi50-32gb_driver5.9.17.json': {
    count: 1, names: ['Radeon Instinct MI50 32GB'], memoryTotalMiB: [32752], driverVersion: '5.9.17', cudaVersion: null, pciBusId0: '0000:63:00.0',
    gpu0: { powerLimitW: 225, memoryUsedMiB: 10 },
  },
  'rocm-smi-json_rx6700xt_rocm4.3.0.json': {
    // ROCm 4.3 prints the vendor id in "Card series": the device id names the card instead.
    count: 1, names: ['AMD GPU (device 0x73df)'], memoryTotalMiB: [12272], driverVersion: '6.3.6', cudaVersion: null, pciBusId0: '0000:07:00.0',
    gpu0: { memoryUsedMiB: 1548, powerDrawW: 6 },
  },
  'rocm-smi-json_rx6700xt_rocm5.7.1.json': {
    count: 1, names: ['Navi 22 [Radeon RX 6700/6700 XT / 6800M]'], memoryTotalMiB: [12272], driverVersion: '6.3.6', cudaVersion: null, pciBusId0: '0000:07:00.0',
    gpu0: { powerDrawW: 6, powerLimitW: 211 },
  },
  'rocm-smi-json_rx6700xt_rocm6.0.2.json': {
    count: 1, names: ['Navi 22 [Radeon RX 6700/6700 XT / 6800M]'], memoryTotalMiB: [12272], driverVersion: '6.3.6', cudaVersion: null, pciBusId0: '0000:07:00.0',
    gpu0: { powerDrawW: null, powerLimitW: 211 }, // "N/A (Secondary die)"
  },
  'rocm-smi-json_vega10-xt_driver5.9.25.json': {
    count: 1, names: ['AMD GPU (device 0x6861)'], memoryTotalMiB: [16368], driverVersion: '5.9.25', cudaVersion: null, pciBusId0: '0000:04:00.0',
    gpu0: { temperatureC: 39, powerDrawW: 15, powerLimitW: 170 },
  },
};

const fakes: FakeGpuTools[] = [];
const services: GpuService[] = [];
function fake(options: Parameters<typeof makeFakeGpuTools>[0]): FakeGpuTools {
  const f = makeFakeGpuTools(options);
  fakes.push(f);
  return f;
}
function service(env: NodeJS.ProcessEnv): GpuService {
  const s = createGpuService({ env, log: silentLogger, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
  services.push(s);
  return s;
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(services.splice(0).map((s) => s.stop()));
});
afterAll(() => fakes.forEach((f) => f.cleanup()));

function expectCapture(gpus: Gpu[], expected: Expected, vendor: 'nvidia' | 'amd') {
  expect(gpus).toHaveLength(expected.count);
  for (const gpu of gpus) expect(() => gpuSchema.strict().parse(gpu)).not.toThrow();
  expect(gpus.map((g) => g.vendor)).toEqual(Array(expected.count).fill(vendor));
  expect(gpus.map((g) => g.index)).toEqual([...Array(expected.count).keys()]);
  expect(gpus.map((g) => g.name)).toEqual(expected.names);
  expect(gpus.map((g) => g.memoryTotalMiB)).toEqual(expected.memoryTotalMiB);
  expect(gpus.every((g) => g.driverVersion === expected.driverVersion && g.cudaVersion === expected.cudaVersion)).toBe(true);
  expect(gpus[0]!.pciBusId).toBe(expected.pciBusId0);
  if (expected.gpu0) expect(gpus[0]).toMatchObject(expected.gpu0);
  if (!expected.gpu0?.migDevices) expect(gpus.every((g) => g.migDevices.length === 0)).toBe(true);
  for (const p of expected.processes ?? []) {
    expect(gpus[p.gpu]!.processes).toHaveLength(p.count);
    if (p.first) expect(gpus[p.gpu]!.processes[0]).toEqual(p.first);
  }
  if (!expected.processes) expect(gpus.every((g) => g.processes.length === 0)).toBe(true);
}

describe('NVIDIA inventory from every nvidia-smi -q -x capture', () => {
  it('has an expectation for every capture in test/fixtures/gpu', () => {
    expect(gpuFixtures('nvidia-xml')).toEqual(Object.keys(NVIDIA).sort());
  });

  for (const [capture, expected] of Object.entries(NVIDIA)) {
    it(`${capture} (read through node-nvidia-smi, the tool on this process's PATH)`, async () => {
      const f = fake({ nvidiaXml: capture });
      vi.stubEnv('PATH', f.env().PATH!);
      const s = service(process.env);
      expectCapture(await s.list(), expected, 'nvidia');
      const [nvidia] = await s.tools();
      expect(nvidia).toMatchObject({ tool: 'nvidia-smi', path: path.join(f.binDir, 'nvidia-smi'), ok: true, gpuCount: expected.count, error: null });
      expect(f.calls().filter((c) => c.args.join(' ') === '-q -x')).toHaveLength(1);
    });
  }

  it('gives the same inventory when the service is given its own environment (own spawn, same parser)', async () => {
    for (const [capture, expected] of Object.entries(NVIDIA)) {
      const f = fake({ nvidiaXml: capture });
      expectCapture(await service(f.env(process.env)).list(), expected, 'nvidia');
    }
  });
});

describe('AMD inventory from every rocm-smi --json capture', () => {
  it('has an expectation for every capture in test/fixtures/gpu', () => {
    expect(gpuFixtures('rocm-json')).toEqual(Object.keys(ROCM).sort());
  });
  for (const [capture, expected] of Object.entries(ROCM)) {
    it(capture, async () => {
      const f = fake({ rocmJson: capture });
      const s = service(f.env(process.env));
      expectCapture(await s.list(), expected, 'amd');
      expect(f.calls().map((c) => c.args)).toEqual([['--showallinfo', '--json']]);
    });
  }
});

describe('inventory edge cases', () => {
  it('lists NVIDIA and AMD GPUs of one machine together', async () => {
    const f = fake({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml', rocmJson: 'rocm-smi-json_mi50-32gb_driver5.9.17.json' });
    const gpus = await service(f.env(process.env)).list();
    expect(gpus.map((g) => `${g.vendor}:${g.index} ${g.name}`)).toEqual(['nvidia:0 GeForce RTX 2080 Ti', 'nvidia:1 GeForce RTX 2080 Ti', 'amd:0 Radeon Instinct MI50 32GB']);
  });

  it('with no GPU tool at all: an empty inventory, not an error, and telemetry says why', async () => {
    const emptyBin = makeTempDir('offshift-nobin-');
    try {
      const statuses: string[] = [];
      const s = createGpuService({ env: { PATH: emptyBin }, log: silentLogger, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: (st) => statuses.push(st.state) });
      services.push(s);
      expect(await s.start()).toEqual([]);
      expect(await s.tools()).toEqual([
        { tool: 'nvidia-smi', path: null, ok: false, gpuCount: 0, error: null },
        { tool: 'rocm-smi', path: null, ok: false, gpuCount: 0, error: null },
      ]);
      const { status, samples } = s.telemetry();
      expect(status.state).toBe('unavailable');
      expect(status.reason).toMatch(/nvidia-smi.*rocm-smi.*neither was found on PATH/);
      expect(samples).toEqual([]);
      expect(statuses).toEqual(['unavailable']);
    } finally {
      fs.rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  it('nvidia-smi installed but the driver not loaded: no GPU, and the tool report says what to do', async () => {
    for (const viaNodeNvidiaSmi of [true, false]) {
      const f = fake({ nvidiaFail: {} });
      if (viaNodeNvidiaSmi) vi.stubEnv('PATH', f.env().PATH!);
      const s = service(viaNodeNvidiaSmi ? process.env : f.env(process.env));
      expect(await s.list()).toEqual([]);
      const [nvidia] = await s.tools();
      expect(nvidia!.ok).toBe(false);
      expect(nvidia!.error).toContain("couldn't communicate with the NVIDIA driver");
      expect(nvidia!.error).toContain('exit code 9');
      expect(nvidia!.error).toMatch(/run `nvidia-smi` in a terminal/);
      vi.unstubAllEnvs();
    }
  });

  it('adds GPUs only systeminformation sees, without listing a vendor-tool GPU twice; its part is reused for a minute', async () => {
    const f = fake({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    let graphicsCalls = 0;
    const s = createGpuService({
      env: f.env(process.env),
      log: silentLogger,
      telemetryIntervalMs: 1000,
      onSamples: () => {},
      onTelemetryStatus: () => {},
      inventoryCacheMs: 0,
      graphics: async () => {
        graphicsCalls += 1;
        return {
          controllers: [
            { vendor: 'NVIDIA Corporation', model: 'TU102 [GeForce RTX 2080 Ti Rev. A]', busAddress: '02:00.0', vram: 11264 },
            { vendor: 'NVIDIA Corporation', model: 'TU102 [GeForce RTX 2080 Ti Rev. A]', busAddress: '03:00.0', vram: 11264 },
            { vendor: 'Intel Corporation', model: 'CometLake-S GT2 [UHD Graphics 630]', busAddress: '00:02.0', vram: 256, vramDynamic: true },
          ],
        };
      },
    });
    services.push(s);
    const gpus = await s.list();
    expect(gpus.map((g) => `${g.vendor}:${g.index} ${g.name}`)).toEqual([
      'nvidia:0 GeForce RTX 2080 Ti',
      'nvidia:1 GeForce RTX 2080 Ti',
      'intel:2 CometLake-S GT2 [UHD Graphics 630]',
    ]);
    await s.list();
    expect(f.calls().filter((c) => c.args.join(' ') === '-q -x')).toHaveLength(2);
    expect(graphicsCalls).toBe(1);
  });

  it('caches the inventory for about a second, then re-reads it', async () => {
    const f = fake({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' });
    const s = service(f.env(process.env));
    await Promise.all([s.list(), s.list()]);
    await s.list();
    expect(f.calls()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    await s.list();
    expect(f.calls()).toHaveLength(2);
  });
});
