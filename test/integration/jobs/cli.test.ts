import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { clearEndpoint, writeEndpoint } from '../../../runtime/agent/discovery.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { runCli } from '../../../runtime/cli.js';
import { silentLogger } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { skipReason } from './harness.js';

let image: string;
const homes: { cleanup: () => void }[] = [];

async function cli(home: string, argv: string[]) {
  let stdout = '';
  let stderr = '';
  /** Both outputs in order, as a terminal shows them. */
  let screen = '';
  const code = await runCli(argv, { env: { ...process.env, OFFSHIFT_HOME: home }, stdout: (t) => ((stdout += t), (screen += t)), stderr: (t) => ((stderr += t), (screen += t)) });
  return { code, stdout, stderr, screen };
}

describe.skipIf(skipReason !== null)('offshift job … (no agent running: the runner in the CLI process)', () => {
  let home: string;
  beforeAll(() => {
    image = sandboxTestImage();
    const t = makeTempHome();
    homes.push(t);
    home = t.home;
  });
  afterAll(() => homes.forEach((h) => h.cleanup()));

  it('job run streams the log and exits 0 when the job succeeded', async () => {
    const r = await cli(home, ['job', 'run', '--image', image, '--env', 'WHO=world', '--', 'sh', '-c', 'echo hello $WHO']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello world\n');
    expect(r.stderr).toMatch(/succeeded \(exit-0\)/);
  });

  it('--json prints one final JSON line; a failed job exits non-zero', async () => {
    const r = await cli(home, ['job', 'run', '--image', image, '--json', '--timeout', '1', '--', 'sh', '-c', 'echo working; sleep 10']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out).sort()).toEqual(['durationMs', 'exitCode', 'id', 'reason', 'state']);
    expect(out).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(out.durationMs).toBeGreaterThan(900);
    expect(r.stderr).toContain('working');
  });

  it('a log that does not end in a newline never runs into the next output; --json keeps stdout to the result', async () => {
    const t = makeTempHome();
    homes.push(t);
    const json = await cli(t.home, ['job', 'run', '--image', image, '--json', '--', 'sh', '-c', 'printf no-newline']);
    expect(json.code).toBe(0);
    expect(json.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'succeeded' });
    expect(json.screen).toMatch(/no-newline\n\{"/);
    const plain = await cli(t.home, ['job', 'run', '--image', image, '--', 'sh', '-c', 'printf out-partial; sleep 0.3; printf err-partial >&2']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe('out-partial');
    // Both lines lack their newline until the job exits, when the engine flushes stdout's and
    // stderr's held-back parts in either order: each must still end on its own line.
    expect(plain.screen).toMatch(/^(out-partial\nerr-partial|err-partial\nout-partial)\nJob \S+: succeeded/);
  });

  it('refuses bad input with exit 2 and the field named', async () => {
    expect(await cli(home, ['job', 'run', '--image', 'alpine:3', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/image: "alpine:3" is not pinned/) });
    expect(await cli(home, ['job', 'run', '--image', image, '--cpus', '-1', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/cpus:/) });
    expect(await cli(home, ['job', 'run', '--image', image])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs a command/) });
    expect(await cli(home, ['job', 'run', '--image', image, '--network', 'everything', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--network is none or allow:/) });
    expect(await cli(home, ['job', 'run', '--image', image, '--network', 'allow:http://x/', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/network/) });
  });

  it('job list, job logs and job cancel read the same database', async () => {
    const list = await cli(home, ['job', 'list', '--json']);
    const jobs = JSON.parse(list.stdout) as { id: string; state: string }[];
    expect(jobs.map((j) => j.state)).toEqual(['timed-out', 'succeeded']);
    const table = await cli(home, ['job', 'list']);
    expect(table.stdout).toMatch(/ID\s+STATE\s+REASON/);
    const logs = await cli(home, ['job', 'logs', jobs[1]!.id]);
    expect(logs.stdout).toBe('hello world\n');
    expect((await cli(home, ['job', 'cancel', jobs[1]!.id])).stdout).toMatch(/already ended: succeeded/);
    expect((await cli(home, ['job', 'logs', 'nope'])).code).toBe(1);
  });
});

describe.skipIf(skipReason !== null)('offshift job … with a running agent (over its WebSocket API)', () => {
  let home: string;
  let agent: Agent;
  let server: RunningServer;
  beforeAll(async () => {
    image = sandboxTestImage();
    const t = makeTempHome();
    homes.push(t);
    home = t.home;
    agent = createAgent({ home, env: { ...process.env, OFFSHIFT_HOME: home }, log: silentLogger });
    server = await startWebSocketServer({ dispatch: agent.dispatch, bus: agent.bus, token: loadOrCreateToken(home), port: 0, staticDir: null });
    writeEndpoint(home, { port: server.port, pid: process.pid, url: server.url });
    await agent.start();
  });
  afterAll(async () => {
    clearEndpoint(home);
    await server?.close();
    await agent?.stop();
  });

  it('job run runs in the agent runner, streams live job.log events, and the agent lists it', async () => {
    const seen: string[] = [];
    const off = agent.bus.subscribe((event, payload) => {
      if (event === 'job.update') seen.push((payload as { state: string }).state);
    });
    const r = await cli(home, ['job', 'run', '--image', image, '--json', '--', 'sh', '-c', 'echo via agent']);
    off();
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out).toMatchObject({ state: 'succeeded', exitCode: 0, reason: 'exit-0' });
    expect(r.stderr).toContain('via agent');
    expect(seen.at(-1)).toBe('succeeded');
    expect(agent.jobs.runner.get(out.id)!.state).toBe('succeeded');
    const client = agent.client();
    expect((await client.call('jobs.list', {})).jobs.map((j) => j.id)).toContain(out.id);
    expect((await client.call('jobs.logs', { id: out.id })).text).toBe('via agent\n');
    expect((await client.call('jobs.get', { id: out.id })).events.map((e) => e.state)).toEqual(['queued', 'pulling', 'starting', 'running', 'succeeded']);
  });

  it('job cancel cancels through the agent', async () => {
    const client = agent.client();
    const { job } = await client.call('jobs.run', { spec: { image, command: ['sleep', '30'] } });
    while (agent.jobs.runner.get(job.id)!.state !== 'running') await new Promise((r) => setTimeout(r, 25));
    expect(agent.state.snapshot.runningJobs).toBe(1);
    const r = await cli(home, ['job', 'cancel', job.id, '--json']);
    expect(r.code).toBe(0);
    const done = await agent.jobs.runner.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(agent.state.snapshot.runningJobs).toBe(0);
  });
});
