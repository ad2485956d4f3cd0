/**
 * The real agent in its desktop-app process entry (dist/main/agent-process.js), run under plain
 * node with a stand-in for Electron's `process.parentPort`: it starts the real agent on a fresh
 * data folder, serves the API over a MessagePort, reports its state to main, and stops on request.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../helpers/temp-home.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
// Its own output file, so a concurrent `npm run build:node` cannot swap it mid-test.
const entry = path.join(root, 'dist/test/main/agent-process.js');

type FromChild = { kind: 'parent'; message: { type: string; [k: string]: unknown } } | { kind: 'wire'; data: string };

describe('the agent process entry (parentPort stand-in)', () => {
  const temp = makeTempHome('offshift-agent-process-');
  let child: ChildProcess;
  const received: FromChild[] = [];
  let stderr = '';

  beforeAll(async () => {
    await build({
      entryPoints: [path.join(root, 'main/agent-process.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      packages: 'external',
      outfile: entry,
      logLevel: 'warning',
    });
    child = fork(entry, [`--offshift-home=${temp.home}`], {
      execArgv: ['--import', path.join(here, 'fixtures/parent-port-shim.mjs')],
      env: { ...process.env, OFFSHIFT_HOME: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('message', (m) => received.push(m as FromChild));
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    temp.cleanup();
  });

  const wireMessages = () => received.filter((m): m is Extract<FromChild, { kind: 'wire' }> => m.kind === 'wire').map((m) => JSON.parse(m.data) as Record<string, unknown>);
  const parentMessages = () => received.filter((m): m is Extract<FromChild, { kind: 'parent' }> => m.kind === 'parent').map((m) => m.message);

  it('starts the agent on the data folder given in argv and tells main it is ready', async () => {
    await expect.poll(() => parentMessages().some((m) => m.type === 'ready') || child.exitCode !== null, { timeout: 20_000 }).toBe(true);
    expect(child.exitCode, `the agent process exited; its stderr:\n${stderr}`).toBeNull();
    expect(parentMessages()[0]).toMatchObject({ type: 'state', state: { state: 'starting' } });
    const lastState = parentMessages().filter((m) => m.type === 'state').at(-1) as unknown as { state: { state: string; detail: string } };
    expect(lastState.state.state).not.toBe('starting');
    expect(lastState.state.detail.length).toBeGreaterThan(0);
  });

  it('serves the typed API over the MessagePort main hands it', async () => {
    child.send({ kind: 'connect' });
    child.send({ kind: 'wire', data: JSON.stringify({ type: 'request', id: 1, command: 'agent.info', input: {} }) });
    child.send({ kind: 'wire', data: JSON.stringify({ type: 'request', id: 2, command: 'gpu.list', input: { bogus: true } }) });
    child.send({ kind: 'wire', data: 'not json' });
    await expect.poll(() => wireMessages().filter((m) => m.type === 'response').length, { timeout: 10_000 }).toBe(3);
    const responses = wireMessages().filter((m) => m.type === 'response');
    expect(responses.find((r) => r.id === 1)).toMatchObject({ ok: true, result: { home: temp.home, pid: child.pid } });
    expect(responses.find((r) => r.id === 2)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(responses.find((r) => r.id === -1)).toMatchObject({ ok: false, error: { code: 'bad-message' } });
  });

  it('stops cleanly when main asks', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.send({ kind: 'shutdown' });
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
