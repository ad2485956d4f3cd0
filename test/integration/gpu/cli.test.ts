/**
 * `offshift gpus` and `offshift check`, end to end: the built CLI (dist/runtime/cli.js) run as a
 * separate process with a fake nvidia-smi first on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuSchema } from '../../../runtime/gpu/schema.js';
import { systemCheckSchema } from '../../../runtime/system/schema.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempDir, makeTempHome } from '../../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(root, 'dist', 'runtime', 'cli.js');
const fakes: FakeGpuTools[] = [];
const temp = makeTempHome('offshift-cli-gpu-');

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:node'], { cwd: root, stdio: 'pipe' });
}, 120_000);
afterAll(() => {
  fakes.forEach((f) => f.cleanup());
  temp.cleanup();
});

function run(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, [cli, ...args], { env: { ...env, OFFSHIFT_HOME: temp.home }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function fakeEnv(options: Parameters<typeof makeFakeGpuTools>[0]): NodeJS.ProcessEnv {
  const fake = makeFakeGpuTools(options);
  fakes.push(fake);
  return fake.env(process.env);
}

const GPU_KEYS = Object.keys(gpuSchema.shape);

describe('offshift gpus', () => {
  it('--json prints exactly { "gpus": [...] } and nothing else on stdout', () => {
    const { code, stdout } = run(['gpus', '--json'], fakeEnv({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' }));
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { gpus: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['gpus']);
    expect(parsed.gpus).toHaveLength(2);
    for (const g of parsed.gpus) {
      expect(Object.keys(g)).toEqual(GPU_KEYS);
      gpuSchema.strict().parse(g);
    }
    expect(parsed.gpus[1]).toEqual({
      index: 1,
      uuid: 'GPU-ef1d0068-5bfd-f1e4-7e79-ff35d71d44b8',
      vendor: 'nvidia',
      name: 'GeForce RTX 2080 Ti',
      memoryTotalMiB: 10989,
      driverVersion: '410.73',
      cudaVersion: '10.0',
      pciBusId: '00000000:03:00.0',
      migMode: null,
      migDevices: [],
      processes: [],
      temperatureC: 24,
      utilizationPct: 0,
      memoryUsedMiB: 0,
      powerDrawW: 19.11,
      powerLimitW: 250,
    });
  });

  it('--json with no GPU tool prints an empty list and exits 0', () => {
    const empty = makeTempDir('offshift-nobin-');
    try {
      const { code, stdout } = run(['gpus', '--json'], { PATH: empty, HOME: temp.home });
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ gpus: [] });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('without --json prints a readable table, with MIG instances', () => {
    const { code, stdout } = run(['gpus'], fakeEnv({ nvidiaXml: 'nvidia-smi-q-x_a100-sxm4-80gb_mig_driver535.54.03_1of4gpus.xml' }));
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^GPU\s+NAME\s+MEMORY\s+DRIVER\s+CUDA/);
    expect(lines[2]).toMatch(/^nvidia:0\s+NVIDIA A100-SXM4-80GB\s+81920 MiB\s+535\.54\.03\s+12\.2\s+00000000:01:00\.0\s+27 C\s+-\s+67\.0 W \/ 500 W\s+on \(4\)\s+0$/);
    expect(stdout).toContain('nvidia:0 MIG instances:');
    expect(stdout).toMatch(/^3\s+19968 MiB\s+14$/m);
  });
});

describe('offshift check', () => {
  it('--json prints the check only; an unreachable engine fails the check (exit 1) without hanging', () => {
    const env = { ...fakeEnv({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' }), DOCKER_HOST: `unix://${path.join(temp.home, 'no-docker.sock')}` };
    const started = Date.now();
    const { code, stdout } = run(['check', '--json'], env);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(code).toBe(1);
    const check = systemCheckSchema.parse(JSON.parse(stdout));
    const byId = Object.fromEntries(check.items.map((i) => [i.id, i]));
    expect(byId['gpu-driver']).toMatchObject({ status: 'pass', message: 'nvidia-smi (driver 525.147.05, CUDA 12.0) sees 1 NVIDIA GPU.' });
    expect(byId.docker).toMatchObject({ status: 'fail' });
    expect(byId.docker!.message).toMatch(/does not exist/);
  });

  it('prints a table with a PASS/WARN/FAIL per item and a summary line', () => {
    const { stdout } = run(['check'], { ...fakeEnv({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' }) });
    expect(stdout).toMatch(/^PASS {2}GPU driver and tool {2,}nvidia-smi \(driver 525\.147\.05, CUDA 12\.0\) sees 1 NVIDIA GPU\.$/m);
    expect(stdout).toMatch(/^(PASS|WARN|FAIL) {2}Docker engine/m);
    expect(stdout).toMatch(/^(PASS|WARN|FAIL) {2}Free disk in the data folder/m);
    expect(stdout).toMatch(/\n\n(Ready|\d+ problems? to fix)/);
  });
});
