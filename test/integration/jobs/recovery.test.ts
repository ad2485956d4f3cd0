import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../../runtime/jobs/outcome.js';
import { JobStore } from '../../../runtime/jobs/store.js';
import { buildContainerSpec } from '../../../runtime/sandbox/container-spec.js';
import { defaultSandboxPolicy } from '../../../runtime/sandbox/policy.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from './harness.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runner-child.ts');
let image: string;
const harnesses: Harness[] = [];

/** Starts a runner in a child process, waits until its job runs, then kills it with SIGKILL. */
async function runAndKill(home: string, spec: Record<string, unknown>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, JSON.stringify({ image, ...spec })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never ran the job: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /RUNNING (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return id;
}

describe.skipIf(skipReason !== null)('recovery after the agent is killed', () => {
  beforeAll(() => {
    image = sandboxTestImage();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
  });
  const harness = () => {
    const h = makeHarness();
    harnesses.push(h);
    return h;
  };

  it('re-adopts a job whose container still runs: logs, metering and its end are recorded', async () => {
    const h = harness();
    const id = await runAndKill(h.home, { command: ['sh', '-c', 'echo before; sleep 2; echo after-restart'], timeoutSeconds: 60 });
    expect(h.runner.get(id)!.state).toBe('running');
    const result = await h.runner.recover();
    expect(result.readopted).toEqual([id]);
    expect(h.runner.runningCount()).toBe(1);
    const done = await h.runner.wait(id);
    expect(done).toMatchObject({ state: 'succeeded', reason: 'exit-0', exitCode: 0 });
    expect(h.runner.logs(id).text).toContain('before');
    expect(h.runner.logs(id).text).toContain('after-restart');
    expect(h.runner.events(id).map((e) => e.reason)).toContain('readopted');
    expect(done.usage!.runMs).toBeGreaterThan(1500);
    expect(await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${id}`] } })).toEqual([]);
  });

  it('a re-adopted job keeps only the remainder of its maximum duration', async () => {
    const h = harness();
    const id = await runAndKill(h.home, { command: ['sleep', '60'], timeoutSeconds: 3 });
    await new Promise((r) => setTimeout(r, 1000));
    const t = Date.now();
    await h.runner.recover();
    const done = await h.runner.wait(id);
    expect(done).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(Date.now() - t).toBeLessThan(3500);
  });

  it('records the end of a job whose container exited while the agent was down', async () => {
    const h = harness();
    const id = await runAndKill(h.home, { command: ['sh', '-c', 'echo bye; sleep 0.5; exit 5'], timeoutSeconds: 60 });
    await new Promise((r) => setTimeout(r, 1500));
    const result = await h.runner.recover();
    expect(result.finished).toEqual([id]);
    expect(h.runner.get(id)).toMatchObject({ state: 'failed', reason: 'exit-5', exitCode: 5 });
    expect(await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${id}`] } })).toEqual([]);
  });

  it('removes containers with no record and Created leftovers; leaves other agents\' containers alone', async () => {
    const h = harness();
    const instance = h.runner.agentInstance;
    const policy = { ...defaultSandboxPolicy, agentInstance: instance, inputDir: null };
    // An orphan: ours, but no record.
    const orphan = await h.docker.createContainer(buildContainerSpec(parseJobSpec({ id: 'orphan-1', image, command: ['sleep', '30'] }, () => ''), [], policy));
    await orphan.start();
    // A Created leftover of a start that never happened, for a job the database says is starting.
    const store = new JobStore(h.db);
    const spec = parseJobSpec({ id: 'created-1', image, command: ['true'] }, () => '');
    store.insert(spec, [], Date.now(), 'submitted', 'q');
    store.transition('created-1', 'starting', 'creating', 'c', Date.now());
    const created = await h.docker.createContainer(buildContainerSpec(spec, [], policy));
    // A job recorded as running whose container is gone.
    store.insert({ ...spec, id: 'lost-1' }, [], Date.now(), 'submitted', 'q');
    store.transition('lost-1', 'running', 'started', 'r', Date.now());
    // Another agent's container (a concurrent test agent): never touched.
    const other = await h.docker.createContainer(buildContainerSpec({ ...spec, id: 'other-1' }, [], { ...policy, agentInstance: 'someone-else' }));
    try {
      const result = await h.runner.recover();
      expect(result.removed.sort()).toEqual([orphan.id, created.id].sort());
      expect(result.lost).toEqual(['lost-1']);
      expect(h.runner.get('created-1')).toMatchObject({ state: 'failed', reason: 'start-interrupted' });
      expect(h.runner.get('lost-1')).toMatchObject({ state: 'failed', reason: 'container-lost' });
      await expect(orphan.inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expect(created.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await other.inspect()).State.Status).toBe('created');
    } finally {
      await other.remove({ force: true });
    }
  });
});
