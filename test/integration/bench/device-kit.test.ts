/**
 * `npm run device-kit` (resources/device-kit/pack.mjs): the archive is packed, is under 60 MiB,
 * and runs the agent's GPU side on its own. It is unpacked into a temp folder outside this
 * checkout (so no node_modules of ours is on Node's search path) and run with a clean
 * environment: PATH = a fake nvidia-smi printing a real capture, a `node` that only fails (the
 * kit must bring its own), /usr/bin and /bin. Here there is no GPU: the CUDA program is in the
 * kit and reports the missing driver, which must come out as the agent's message, never as a
 * missing module.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempDir } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PACK = path.join(root, 'resources', 'device-kit', 'pack.mjs');
const LIMIT = 60 * 1024 * 1024;
// The capture's two GPUs (driver 590: new enough for the CUDA 13 benchmark, so it really runs).
const CAPTURE = 'nvidia-smi-q-x_2x-rtx2070_driver590.44.01.xml';
const UUIDS = ['GPU-12345678-aaaa-bbbb-cccc-0123456789ab', 'GPU-12345678-aaaa-bbbb-cccc-0123456789cd'];
const MODULE_ERROR = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|ERR_DLOPEN_FAILED|NODE_MODULE_VERSION|GLIBC_/;

/** Whether this machine can build the CUDA program (the packer refuses without it unless --no-bench). */
function benchBuildable(): boolean {
  if (fs.existsSync(path.join(root, 'dist', 'bench', 'offshift-bench'))) return true;
  if (process.env.OFFSHIFT_NVCC !== undefined) return fs.existsSync(process.env.OFFSHIFT_NVCC);
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...(process.env.CUDA_HOME ? [path.join(process.env.CUDA_HOME, 'bin')] : []), '/usr/local/cuda/bin'];
  return dirs.some((d) => d && fs.existsSync(path.join(d, 'nvcc')));
}

const withBench = benchBuildable();
const out = makeTempDir('offshift-kit-out-');
const unpacked = makeTempDir('offshift-kit-run-');
const kit = path.join(unpacked, 'offshift-device-kit');
let fake: FakeGpuTools;
let archive = '';
let pack: { status: number | null; stdout: string; stderr: string; seconds: number };

beforeAll(() => {
  const started = Date.now();
  // xz's fastest preset: several times faster on two cores than the default -6, and a few MiB
  // bigger, so the size check below holds a fortiori for `npm run device-kit`'s archive.
  const env = { ...process.env, XZ_OPT: '-1 -T0' };
  const result = spawnSync(process.execPath, [PACK, '--out', out, ...(withBench ? [] : ['--no-bench'])], { cwd: root, env, encoding: 'utf8', timeout: 480_000 });
  pack = { status: result.status, stdout: result.stdout, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
  archive = ['xz', 'gz'].map((ext) => path.join(out, `offshift-device-kit.tar.${ext}`)).find((f) => fs.existsSync(f)) ?? '';
  if (archive) {
    const untar = spawnSync('tar', ['-xf', archive, '-C', unpacked], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`tar -xf ${archive}: ${untar.stderr}`);
  }
  fake = makeFakeGpuTools({ nvidiaXml: CAPTURE });
  // A `node` on PATH that only fails: whatever runs must be the kit's own.
  fs.writeFileSync(path.join(fake.binDir, 'node'), '#!/bin/sh\necho "not the kit\'s node: $0 $*" >&2\nexit 99\n', { mode: 0o755 });
}, 600_000);

afterAll(() => {
  fake?.cleanup();
  for (const dir of [out, unpacked]) fs.rmSync(dir, { recursive: true, force: true });
});

/** The kit's launcher, with a clean environment and cwd outside this checkout. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: `${fake.binDir}:/usr/bin:/bin`, HOME: unpacked, LANG: 'C.UTF-8', ...extra });
function offshift(args: string[], extra: Record<string, string> = {}) {
  const result = spawnSync(path.join(kit, 'offshift'), args, { cwd: unpacked, env: cleanEnv(extra), encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run device-kit', () => {
  it('packs one archive under 60 MiB with Node, the CLI, the CUDA program and only runtime packages', () => {
    expect(pack.status, `${pack.stdout}\n${pack.stderr}`).toBe(0);
    console.log(`[device-kit] packed in ${pack.seconds.toFixed(1)} s:\n${pack.stdout.trim()}`);
    expect(fs.statSync(archive).size).toBeLessThan(LIMIT);
    expect(pack.stdout).toMatch(new RegExp(`${path.basename(archive).replace(/\./g, '\\.')}: \\d+\\.\\d MiB`));
    // Outside the checkout: Node cannot reach our node_modules from there.
    expect(path.relative(root, kit).startsWith('..')).toBe(true);

    for (const file of ['offshift', 'node/bin/node', 'dist/runtime/cli.js', 'package.json', 'README.txt', 'resources/bench/device-proof.sh', 'resources/bench/compare.py']) {
      expect(fs.existsSync(path.join(kit, file)), file).toBe(true);
    }
    expect(fs.statSync(path.join(kit, 'offshift')).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(kit, 'dist', 'bench', 'offshift-bench'))).toBe(withBench);

    const modules = fs.readdirSync(path.join(kit, 'node_modules'));
    expect(modules).toEqual(expect.arrayContaining(['better-sqlite3', 'zod', 'ethers', 'pino', 'systeminformation', 'node-nvidia-smi', 'xml2js', 'ws', 'luxon', 'dockerode']));
    for (const devOnly of ['electron', 'react', 'react-dom', 'vite', 'playwright', 'esbuild', 'typescript', 'vitest', 'solc', 'prebuild-install', '@types', '.bin']) {
      expect(modules, devOnly).not.toContain(devOnly);
    }
    // better-sqlite3: its compiled module and lib/, not its sources and build leftovers.
    expect(fs.existsSync(path.join(kit, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    expect(fs.existsSync(path.join(kit, 'node_modules', 'better-sqlite3', 'deps'))).toBe(false);
  });

  it('gpus --json runs on the kit alone and lists the capture’s GPUs', () => {
    const { code, stdout, stderr } = offshift(['gpus', '--json']);
    expect(stderr).not.toMatch(MODULE_ERROR);
    expect(stderr).not.toMatch(/not the kit's node/);
    expect(code, stderr).toBe(0);
    const { gpus } = JSON.parse(stdout) as { gpus: { index: number; uuid: string; name: string; driverVersion: string; memoryTotalMiB: number }[] };
    expect(gpus.map((g) => g.uuid)).toEqual(UUIDS);
    expect(gpus.every((g) => g.name === 'NVIDIA GeForce RTX 2070' && g.driverVersion === '590.44.01' && g.memoryTotalMiB === 8192)).toBe(true);
    expect(fake.calls().some((c) => c.tool === 'nvidia-smi' && c.args.join(' ') === '-q -x')).toBe(true);
  });

  it('bench run --json runs the kit’s CUDA program with live telemetry, and says clearly there is no driver', () => {
    const before = fake.calls().length;
    const { code, stdout, stderr } = offshift(['bench', 'run', '--quick', '--json']);
    expect(`${stdout}${stderr}`).not.toMatch(MODULE_ERROR);
    const { gpus } = JSON.parse(stdout) as { gpus: { uuid: string; error: string | null }[] };
    expect(gpus.map((g) => g.uuid)).toEqual(UUIDS);
    const noDriver = !fs.existsSync('/dev/nvidiactl');
    for (const g of gpus) {
      if (!withBench) expect(g.error).toMatch(/not built: install the CUDA toolkit \(nvcc\)/);
      else if (noDriver) expect(g.error).toMatch(/No NVIDIA driver is loaded, so the CUDA benchmark cannot run/);
      else expect(g.error ?? '').not.toMatch(MODULE_ERROR);
    }
    if (noDriver || !withBench) expect(code).toBe(1);
    // The result is stored in the kit's own data folder. (Whether the telemetry reader started
    // before a driverless run ended is a race; the kit's agent below serves live telemetry.)
    expect(fake.calls().length).toBeGreaterThan(before);
    expect(fs.existsSync(path.join(kit, 'data', 'bench.db'))).toBe(true);
    const history = offshift(['bench', 'history', '--json']);
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout) as { entries: unknown[] }).entries).toHaveLength(2);
  });

  it('OFFSHIFT_HOME moves the data folder', () => {
    const home = path.join(unpacked, 'elsewhere');
    const { code, stdout, stderr } = offshift(['bench', 'history', '--json'], { OFFSHIFT_HOME: home });
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout) as { entries: unknown[] }).entries).toHaveLength(0);
  });

  it('the agent starts from the kit and serves live telemetry', async () => {
    const child = spawn(path.join(kit, 'offshift'), ['agent', '--port', '0'], { cwd: unpacked, env: cleanEnv({ OFFSHIFT_MARKET: 'off' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const match = await until('the agent’s dashboard URL', () => {
        if (child.exitCode !== null) throw new Error(`the kit's agent exited (${child.exitCode}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
        return /Dashboard: http:\/\/127\.0\.0\.1:(\d+)\/#token=([0-9a-f]+)/.exec(stdout);
      }, 60_000);
      const client = createClient(await connectWebSocket(Number(match[1]), match[2]!));
      try {
        const samples = await until('telemetry of both GPUs', async () => {
          const { samples } = await client.call('gpu.telemetry', {});
          return UUIDS.every((u) => samples.some((s) => s.uuid === u && s.temperatureC !== null)) ? samples : null;
        }, 30_000);
        expect(samples.length).toBeGreaterThanOrEqual(2);
      } finally {
        client.close();
      }
      expect(stderr).not.toMatch(MODULE_ERROR);
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }, 120_000);
});
