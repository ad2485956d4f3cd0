/**
 * The system service, tested as far as this machine allows (no systemd as PID 1 here, so
 * nothing is installed): the unit that `offshift service print` writes passes
 * `systemd-analyze verify` with no warning; a real headless agent started as the service starts
 * it (OFFSHIFT_TOKEN_MODE=0640) leaves its token readable by its group; the desktop app's probe
 * finds it and chooses to attach; and the desktop app's service link (electron mocked, the
 * WebSocket real) carries a window's requests to that agent and its answers back.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTempHome } from '../../helpers/temp-home.js';

vi.mock('electron', () => import('../../unit/main/fake-electron.js'));
const fake = await import('../../unit/main/fake-electron.js');
const { ServiceLink } = await import('../../../main/agent/service-link.js');
const { chooseAgentMode } = await import('../../../main/agent/agent-mode.js');
const { probeService } = await import('../../../runtime/service/probe.js');
const { AGENT_NODE_FLAGS } = await import('../../../runtime/agent/node-flags.js');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const hasSystemdAnalyze = analyze.status === 0;
if (!hasSystemdAnalyze) console.warn('[service] the unit check is skipped: systemd-analyze is missing (Debian: apt-get install systemd; test/setup/prepare-machine.sh installs it as root).');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('the system service', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let agent: ChildProcessWithoutNullStreams;
  let port: number;
  let home: string;

  beforeAll(async () => {
    execFileSync('npm', ['run', '-s', 'build:node'], { cwd: ROOT, stdio: 'pipe' });
    temp = makeTempHome('offshift-service-');
    home = path.join(temp.home, 'service-home');
    agent = spawn(process.execPath, [CLI, 'agent', '--port', '0'], { cwd: ROOT, env: { ...process.env, OFFSHIFT_HOME: home, OFFSHIFT_TOKEN_MODE: '0640', OFFSHIFT_PORT: undefined } });
    let stdout = '';
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent printed no URL in 60 s: ${stdout}`)), 60_000);
      agent.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /Dashboard: http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
  }, 180_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    temp?.cleanup();
  });

  it.skipIf(!hasSystemdAnalyze)('the unit `offshift service print` writes passes systemd-analyze verify, without a warning', () => {
    const printed = runCli(['service', 'print', '--platform', 'linux']);
    expect(printed.status).toBe(0);
    const unit = path.join(temp.home, 'offshift.service');
    fs.writeFileSync(unit, printed.stdout);
    expect(printed.stdout).toContain(`ExecStart=${process.execPath} ${AGENT_NODE_FLAGS.join(' ')} ${CLI} agent --port 7878`);
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 60_000 });
    expect(verify.stderr.trim()).toBe('');
    expect(verify.status).toBe(0);
    // The check is real: a misspelt directive is reported.
    fs.writeFileSync(unit, printed.stdout.replace('UMask=', 'UMsk='));
    expect(spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' }).stderr).toContain("Unknown key 'UMsk'");
  });

  it('install --dry-run prints the plan (the installing user joins the group); a bad port is refused', () => {
    const dry = runCli(['service', 'install', '--dry-run'], { SUDO_USER: 'alice' });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('useradd --system');
    expect(dry.stdout).toContain('usermod --append --groups offshift alice');
    expect(dry.stdout).toContain('systemctl enable --now offshift.service');
    expect(runCli(['service', 'install', '--port', 'x']).stderr).toContain('--port x is not a port number');
  });

  it('the service token is readable by its group, and the probe finds the service and chooses to attach', async () => {
    expect(fs.statSync(path.join(home, 'api-token')).mode & 0o777).toBe(0o640);
    const probe = await probeService({ home, port });
    expect(probe).toMatchObject({ state: 'running', port, home });
    expect(chooseAgentMode({}, probe)).toMatchObject({ mode: 'service', port });
    expect(await probeService({ home: path.join(temp.home, 'nothing'), port })).toEqual({ state: 'absent' });
    // A token but no agent listening: installed, not running.
    const stale = path.join(temp.home, 'stale');
    fs.mkdirSync(stale);
    fs.copyFileSync(path.join(home, 'api-token'), path.join(stale, 'api-token'));
    expect(await probeService({ home: stale, port: 1 })).toMatchObject({ state: 'not-running' });
    const status = runCli(['service', 'status', '--json'], { OFFSHIFT_SERVICE_HOME: home, OFFSHIFT_SERVICE_PORT: String(port) });
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'running', port });
    expect(status.stdout).not.toContain(fs.readFileSync(path.join(home, 'api-token'), 'utf8').trim());
  });

  it('`offshift agent` on a machine where the service runs says to use the service', () => {
    const second = runCli(['agent', '--port', String(port)], { OFFSHIFT_HOME: path.join(temp.home, 'second'), OFFSHIFT_SERVICE_HOME: home, OFFSHIFT_SERVICE_PORT: String(port), OFFSHIFT_MARKET: 'off' });
    expect(second.status).not.toBe(0);
    expect(second.stderr).toContain(`port ${port} is taken by the Offshift system service`);
  });

  it('the desktop app attached to the service: a window\'s port carries its requests to the agent and the answers back', async () => {
    fake.resetFakeElectron();
    const token = fs.readFileSync(path.join(home, 'api-token'), 'utf8').trim();
    const statuses: string[] = [];
    const states: string[] = [];
    const log = { info: () => {}, warn: () => {}, error: () => {} };
    const link = new ServiceLink({ port, token, log, onStatus: (s) => statuses.push(s.status), onAgentState: (s) => states.push(s.state) });
    const window = new fake.FakeWebContents();
    link.connect(window);
    link.start();
    await vi.waitFor(() => expect(statuses).toContain('running'), { timeout: 10_000 });
    await vi.waitFor(() => expect(states.length).toBeGreaterThan(0), { timeout: 10_000 });
    // The window got a port; main's end is piped to its own WebSocket to the service.
    await vi.waitFor(() => expect(window.postMessage).toHaveBeenCalled(), { timeout: 10_000 });
    const channel = fake.MessageChannelMain.created.at(-1)!;
    channel.port1.emit('message', { data: JSON.stringify({ type: 'request', id: 7, command: 'agent.info', input: {} }) });
    await vi.waitFor(
      () => {
        const answers = channel.port1.postMessage.mock.calls.map((c) => JSON.parse(c[0] as string) as { type: string; id?: number; ok?: boolean; result?: { home: string } });
        expect(answers.find((a) => a.type === 'response' && a.id === 7)).toMatchObject({ ok: true, result: { home } });
      },
      { timeout: 10_000 },
    );
    // A page somewhere else never gets a port.
    const foreign = new fake.FakeWebContents();
    foreign.url = 'https://evil.example/';
    link.connect(foreign);
    expect(foreign.postMessage).not.toHaveBeenCalled();
    await link.stop();
    expect(statuses.at(-1)).toBe('stopped');
  });
});
