/**
 * The system check against the real Docker engine, a dead socket and a socket that accepts
 * connections but never answers (it must not hang), with a fake nvidia-smi for the GPU items.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { createGpuService } from '../../../runtime/gpu/service.js';
import { runSystemCheck } from '../../../runtime/check/system-check.js';
import { probeDocker } from '../../../runtime/engine/index.js';
import { systemCheckSchema } from '../../../runtime/system/schema.js';
import { makeFakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempDir, makeTempHome } from '../../helpers/temp-home.js';

function dockerReachable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
const hasDocker = dockerReachable();
if (!hasDocker) console.warn('system-check: the real-Docker tests are skipped because `docker info` fails here (run bash test/setup/prepare-machine.sh).');

const dir = makeTempDir('offshift-sock-');
const deadSocket = path.join(dir, 'dead.sock');
const silentSocket = path.join(dir, 'silent.sock');
let silentServer: net.Server;
const held: net.Socket[] = [];

beforeAll(async () => {
  // A stale socket file with nothing listening (what a crashed engine leaves): a process binds
  // it and exits without unlinking.
  execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(deadSocket)}, () => process.exit(0))`]);
  expect(fs.statSync(deadSocket).isSocket()).toBe(true);
  silentServer = net.createServer((socket) => held.push(socket)); // accepts, never answers
  await new Promise<void>((resolve) => silentServer.listen(silentSocket, resolve));
});
afterAll(async () => {
  held.forEach((s) => s.destroy());
  await new Promise((r) => silentServer.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Docker probe', () => {
  it.skipIf(!hasDocker)('reaches the real engine and reads its version and runtimes', async () => {
    const expected = execFileSync('docker', ['version', '--format', '{{.Server.Version}}']).toString().trim();
    const probe = await probeDocker({ env: process.env });
    expect(probe).toMatchObject({ reachable: true, version: expected, error: null });
    expect(probe.runtimes).toContain('runc');
  });

  it('honours DOCKER_HOST: a missing socket fails fast with what to do', async () => {
    const probe = await probeDocker({ env: { DOCKER_HOST: `unix://${path.join(dir, 'missing.sock')}` } });
    expect(probe.reachable).toBe(false);
    expect(probe.error).toMatch(/does not exist.*Install Docker Engine/);
    expect(probe.elapsedMs).toBeLessThan(2000);
  });

  it('a dead socket (nothing listening) fails fast', async () => {
    const probe = await probeDocker({ env: { DOCKER_HOST: `unix://${deadSocket}` } });
    expect(probe.reachable).toBe(false);
    expect(probe.error).toMatch(/Nothing answers at unix:\/\/.*dead\.sock: the Docker engine is not running/);
    expect(probe.elapsedMs).toBeLessThan(2000);
  });

  it('a socket that accepts but never answers is time-boxed, never a hang', async () => {
    const started = Date.now();
    const probe = await probeDocker({ env: { DOCKER_HOST: `unix://${silentSocket}` }, timeoutMs: 800 });
    const took = Date.now() - started;
    expect(probe.reachable).toBe(false);
    expect(probe.error).toMatch(/did not answer within 0\.8 s/);
    expect(took).toBeGreaterThanOrEqual(750);
    expect(took).toBeLessThan(3000);
    expect(held.length).toBeGreaterThan(0); // it really connected
  });
});

describe('runSystemCheck', () => {
  it.skipIf(!hasDocker)('with a fake NVIDIA GPU and the real engine: driver passes, Docker passes, the missing NVIDIA runtime fails with the fix', async () => {
    const fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    const { home, cleanup } = makeTempHome();
    try {
      const env = fake.env({ ...process.env, OFFSHIFT_POLICY_FILE: `${home}/no-policy.json` });
      const gpu = createGpuService({ env, log: silentLogger, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
      const check = systemCheckSchema.parse(await runSystemCheck({ env, home, gpu }));
      const byId = Object.fromEntries(check.items.map((i) => [i.id, i]));
      expect(Object.keys(byId)).toEqual(['gpu-driver', 'docker', 'container-gpu', 'disk', 'admin-policy']);
      expect(byId['admin-policy']).toMatchObject({ status: 'pass' });
      expect(byId['gpu-driver']).toMatchObject({ status: 'pass', message: 'nvidia-smi (driver 410.73, CUDA 10.0) sees 2 NVIDIA GPUs.' });
      expect(byId.docker!.status).toBe('pass');
      expect(byId.docker!.message).toMatch(/^Docker \S+ is reachable at unix:\/\/\/var\/run\/docker\.sock/);
      // This engine has no nvidia runtime and no CDI spec (checked, not assumed):
      const runtimes = execFileSync('docker', ['info', '--format', '{{json .Runtimes}}']).toString();
      if (!runtimes.includes('"nvidia"')) {
        expect(byId['container-gpu']!.status).toBe('fail');
        expect(byId['container-gpu']!.message).toMatch(/Install the NVIDIA Container Toolkit/);
      }
      expect(byId.disk!.message).toContain(home);
    } finally {
      fake.cleanup();
      cleanup();
    }
  });

  it('with no GPU tool and an unreachable engine: both fail with a reason, within the time box', async () => {
    const { home, cleanup } = makeTempHome();
    try {
      const env = { PATH: dir, DOCKER_HOST: `unix://${silentSocket}` };
      const gpu = createGpuService({ env, log: silentLogger, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
      const started = Date.now();
      const check = await runSystemCheck({ env, home, gpu, dockerTimeoutMs: 500 });
      expect(Date.now() - started).toBeLessThan(10_000);
      const byId = Object.fromEntries(check.items.map((i) => [i.id, i]));
      expect(byId['gpu-driver']!.status).toBe('fail');
      expect(byId['gpu-driver']!.message).toMatch(/No GPU driver tool found/);
      expect(byId.docker!.status).toBe('fail');
      expect(byId.docker!.message).toMatch(/did not answer/);
      expect(byId['container-gpu']!.status).toBe('warn');
    } finally {
      cleanup();
    }
  });
});
