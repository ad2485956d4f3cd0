/**
 * `offshift schedule decide|show`, `offshift pause|resume`, end to end: the built CLI run as a
 * separate process; pause/resume both against the settings file (no agent) and against a
 * running headless agent (fake nvidia-smi so it has a GPU).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(root, 'dist', 'runtime', 'cli.js');
const temp = makeTempHome('offshift-cli-schedule-');
const files = path.join(temp.home, 'files');
const noPolicy = path.join(temp.home, 'no-policy.json');

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:node'], { cwd: root, stdio: 'pipe' });
  fs.mkdirSync(files);
}, 120_000);
afterAll(() => temp.cleanup());

function write(name: string, value: unknown): string {
  const file = path.join(files, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}, home = path.join(temp.home, 'home')) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH, HOME: temp.home, TZ: 'UTC', OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: noPolicy, OFFSHIFT_MARKET: 'off', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const decideJson = (args: string[]) => {
  const r = run(['schedule', 'decide', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { run: boolean; reason: string; detail: string };
};

describe('offshift schedule decide', () => {
  const settings = () =>
    write('settings.json', {
      schedule: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }], exclusiveApps: ['cs2.exe', 'steam'], timezone: 'Europe/Berlin' },
    });

  it('prints exactly { run, reason, detail } on one line, exit 0', () => {
    const r = run(['schedule', 'decide', '--settings', settings(), '--at', '2026-11-27T22:30:00+01:00', '--idle-seconds', '900']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"run":true,"reason":"ok","detail":"Available: waiting for work."}\n');
  });
  it('Friday 22:00–07:00 runs into Saturday morning, in the settings zone; --tz overrides it', () => {
    const file = settings();
    expect(decideJson(['--settings', file, '--at', '2026-11-28T05:59:00Z', '--idle-seconds', '900'])).toMatchObject({ run: true }); // Sat 06:59 Berlin
    expect(decideJson(['--settings', file, '--at', '2026-11-28T06:00:00Z', '--idle-seconds', '900'])).toMatchObject({ run: false, reason: 'outside-schedule' });
    expect(decideJson(['--settings', file, '--at', '2026-11-28T06:00:00Z', '--idle-seconds', '900', '--tz', 'America/New_York'])).toMatchObject({ run: true }); // Sat 01:00 NY
  });
  it('each signal flag', () => {
    const file = settings();
    const at = ['--settings', file, '--at', '2026-11-27T23:00:00+01:00', '--idle-seconds', '900'];
    expect(decideJson([...at, '--processes', 'bash,C:\\Games\\CS2.EXE'])).toEqual({ run: false, reason: 'exclusive-app', detail: 'Paused: CS2.EXE is running.' });
    expect(decideJson([...at, '--gpu-processes', 'Xorg:300,blender:2048'])).toEqual({ run: false, reason: 'foreign-gpu-use', detail: 'Paused: blender is using the GPU (2048 MiB).' });
    expect(decideJson([...at, '--gpu-processes', 'Xorg:3000,gnome-shell:2000'])).toMatchObject({ run: true });
    expect(decideJson([...at, '--gpu-temp', '85'])).toMatchObject({ run: false, reason: 'too-hot' });
    expect(decideJson([...at, '--gpu-temp', '80', '--paused-for-heat'])).toMatchObject({ run: false, reason: 'too-hot' });
    expect(decideJson([...at, '--gpu-temp', '70', '--paused-for-heat'])).toMatchObject({ run: true });
    expect(decideJson([...at, '--on-battery'])).toMatchObject({ run: false, reason: 'on-battery' });
    expect(decideJson(['--settings', file, '--at', '2026-11-27T23:00:00+01:00', '--idle-seconds', '10'])).toMatchObject({ run: false, reason: 'user-active' });
    expect(decideJson(['--settings', file, '--at', '2026-11-27T23:00:00+01:00'])).toEqual({ run: true, reason: 'ok', detail: 'Available: no idle source: schedule only.' });
  });
  it('a policy file: mandatory wins; a malformed one fails safe', () => {
    const file = settings();
    const policy = write('policy.json', { mandatory: { schedule: { mode: 'never' } } });
    expect(decideJson(['--settings', file, '--policy', policy, '--at', '2026-11-27T23:00:00+01:00', '--idle-seconds', '900'])).toMatchObject({ reason: 'mode-never' });
    const broken = write('broken-policy.json', '{"mandatory": {"schedule": {"mode": "sometimes"}}}');
    const r = decideJson(['--settings', file, '--policy', broken, '--at', '2026-11-27T23:00:00+01:00', '--idle-seconds', '900']);
    expect(r).toMatchObject({ run: false, reason: 'policy-invalid' });
    expect(r.detail).toContain('mandatory.schedule.mode');
  });
  it('invalid settings exit 2 with the field named', () => {
    const bad = write('bad.json', { schedule: { windows: [{ days: ['mon'], start: '22:00', end: '24:30' }] } });
    const r = run(['schedule', 'decide', '--settings', bad, '--at', '2026-11-27T23:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('schedule.windows.0.end');
    const clash = write('clash.json', { schedule: { thermal: { pauseAtC: 70, resumeBelowC: 80 } } });
    const r2 = run(['schedule', 'decide', '--settings', clash, '--at', '2026-11-27T23:00:00Z']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('thermal.resumeBelowC');
    const notJson = write('notjson.json', '{ schedule: ');
    expect(run(['schedule', 'decide', '--settings', notJson, '--at', '2026-11-27T23:00:00Z']).code).toBe(2);
  });
  it('bad arguments exit 2 with a clear message', () => {
    const file = settings();
    expect(run(['schedule', 'decide', '--at', '2026-11-27T23:00:00Z'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--settings') });
    expect(run(['schedule', 'decide', '--settings', file])).toMatchObject({ code: 2, stderr: expect.stringContaining('--at') });
    expect(run(['schedule', 'decide', '--settings', file, '--at', 'tomorrow'])).toMatchObject({ code: 2, stderr: expect.stringContaining('ISO 8601') });
    expect(run(['schedule', 'decide', '--settings', file, '--at', '2026-11-27T23:00:00Z', '--tz', 'Mars/Base'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--tz') });
    expect(run(['schedule', 'decide', '--settings', file, '--at', '2026-11-27T23:00:00Z', '--gpu-processes', 'blender'])).toMatchObject({ code: 2, stderr: expect.stringContaining('NAME:MiB') });
    expect(run(['schedule', 'decide', '--settings', path.join(files, 'missing.json'), '--at', '2026-11-27T23:00:00Z'])).toMatchObject({ code: 2, stderr: expect.stringContaining('ENOENT') });
    expect(run(['schedule', 'decide', '--settings', '/dev/zero', '--at', '2026-11-27T23:00:00Z'])).toMatchObject({ code: 2, stderr: expect.stringContaining('it is not a regular file') });
  });
});

describe('offshift schedule show / pause / resume without an agent (the settings file)', () => {
  const home = path.join(temp.home, 'file-home');
  it('pause --for, show, resume; locked fields marked', () => {
    const policy = write('show-policy.json', { mandatory: { schedule: { idle: { minutes: 20 } } } });
    const env = { OFFSHIFT_POLICY_FILE: policy };
    const p = run(['pause', '--for', '90'], env, home);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('Paused until');
    expect(p.stdout).toContain('no agent running');
    const settings = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8'));
    const until = new Date(settings.schedule.snoozeUntil).getTime();
    expect(Math.abs(until - (Date.now() + 90 * 60_000))).toBeLessThan(30_000);

    const show = run(['schedule', 'show'], env, home);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Idle:\s+required, 20 min\s+\[locked by administrator\]/);
    expect(show.stdout).toContain('Paused until');
    const json = JSON.parse(run(['schedule', 'show', '--json'], env, home).stdout);
    expect(json.locked).toEqual(['schedule.idle.minutes']);
    expect(json.policy.state).toBe('ok');

    expect(run(['resume'], env, home)).toMatchObject({ code: 0, stdout: expect.stringContaining('Resumed') });
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).schedule.snoozeUntil).toBeNull();
    expect(run(['pause'], env, home).stdout).toContain('until you run `offshift resume`');
    expect(run(['pause', '--for', '-3'], env, home).code).toBe(2);
    expect(run(['pause', '--for', '5', '--until', '2030-01-01T00:00:00Z'], env, home).code).toBe(2);
    expect(run(['pause', '--until', '2001-01-01T00:00:00Z'], env, home)).toMatchObject({ code: 2, stderr: expect.stringContaining('past') });
  });
});

describe('offshift pause / resume with a running agent', () => {
  let agent: ChildProcess | null = null;
  let fake: FakeGpuTools | null = null;
  const home = path.join(temp.home, 'agent-home');
  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    fake?.cleanup();
  });

  it('talks to the agent: its state changes at once, and a locked field is refused', async () => {
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    const policy = write('agent-policy.json', { mandatory: { schedule: { exclusiveApps: ['cs2.exe'] } } });
    const env = fake.env({ PATH: process.env.PATH, HOME: temp.home, TZ: 'UTC', OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policy, OFFSHIFT_MARKET: 'off' });
    agent = spawn(process.execPath, [cli, 'agent', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    agent.stdout!.on('data', (d) => (out += d));
    agent.stderr!.on('data', (d) => (err += d));
    for (let i = 0; i < 400 && !out.includes('Dashboard:'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out + err).toContain('Dashboard:');

    const p = run(['pause', '--for', '30'], { OFFSHIFT_POLICY_FILE: policy }, home);
    expect(p.stderr).toBe('');
    expect(p.stdout).toContain('told the running agent');
    const shown = JSON.parse(run(['schedule', 'show', '--json'], { OFFSHIFT_POLICY_FILE: policy }, home).stdout);
    expect(shown.decision).toMatchObject({ run: false, reason: 'snoozed' });
    expect(shown.locked).toEqual(['schedule.exclusiveApps']);

    // Over the API (what the dashboard does): the admin's field is refused, others are saved.
    const endpoint = JSON.parse(fs.readFileSync(path.join(home, 'agent.json'), 'utf8')) as { port: number };
    const client = createClient(await connectWebSocket(endpoint.port, fs.readFileSync(path.join(home, 'api-token'), 'utf8').trim()));
    try {
      await expect(client.call('schedule.set', { exclusiveApps: [] })).rejects.toMatchObject({ code: 'locked-by-policy' });
      await expect(client.call('schedule.set', { idle: { minutes: 12 } })).resolves.toMatchObject({ effective: { idle: { minutes: 12 }, exclusiveApps: ['cs2.exe'] } });
      await expect(client.call('schedule.set', { idle: { minutes: -5 } })).rejects.toMatchObject({ code: 'invalid-input' });
      const check = await client.call('system.check');
      expect(check.items.find((i) => i.id === 'admin-policy')).toMatchObject({ status: 'pass' });
    } finally {
      client.close();
    }

    const r = run(['resume'], { OFFSHIFT_POLICY_FILE: policy }, home);
    expect(r.stdout).toContain('told the running agent');
    const after = JSON.parse(run(['schedule', 'show', '--json'], { OFFSHIFT_POLICY_FILE: policy }, home).stdout);
    expect(after.decision.reason).not.toBe('snoozed');
  }, 60_000);
});
