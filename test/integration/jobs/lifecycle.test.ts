import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, skipReason, type Harness } from './harness.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';

let h: Harness;
let image: string;

describe.skipIf(skipReason !== null)('job lifecycle on the real engine', () => {
  beforeAll(() => {
    image = sandboxTestImage();
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  const run = async (spec: Record<string, unknown>) => {
    const job = await h.runner.submit({ image, ...spec });
    return h.runner.wait(job.id);
  };

  it('runs a job through queued → pulling → starting → running → succeeded, with its log', async () => {
    const seen: string[] = [];
    const off = h.runner.onChange((j) => seen.push(j.state));
    const job = await run({ command: ['sh', '-c', 'echo hello from the job; echo to stderr >&2'] });
    off();
    expect(job).toMatchObject({ state: 'succeeded', reason: 'exit-0', exitCode: 0, oomKilled: false });
    expect(seen).toEqual(['queued', 'pulling', 'starting', 'running', 'succeeded']);
    expect(h.runner.events(job.id).map((e) => e.state)).toEqual(seen);
    expect(job.logTail).toContain('hello from the job');
    expect(h.runner.logs(job.id).text).toContain('to stderr');
    expect(h.logs.some((l) => l.id === job.id && l.stream === 'stdout' && l.text.includes('hello'))).toBe(true);
    expect(job.usage!.wallMs).toBeGreaterThanOrEqual(0);
    expect(job.startedAt).not.toBeNull();
    expect(job.endedAt).not.toBeNull();
    // Nothing left behind.
    const left = await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${job.id}`] } });
    expect(left).toEqual([]);
  });

  it('records a failing exit code', async () => {
    const job = await run({ command: ['sh', '-c', 'exit 3'] });
    expect(job).toMatchObject({ state: 'failed', reason: 'exit-3', exitCode: 3 });
  });

  it('a command missing from the image fails with exit 127, said plainly', async () => {
    const job = await run({ command: ['/no/such/program'] });
    expect(job).toMatchObject({ state: 'failed', reason: 'exit-127' });
    expect(job.detail).toMatch(/command not found/);
  });

  it('refuses more CPUs or memory than the machine has, naming the field', async () => {
    await expect(h.runner.submit({ image, command: ['true'], cpus: 64 })).rejects.toThrow(/cpus: 64 asked, but this machine has \d+ CPUs/);
    await expect(h.runner.submit({ image, command: ['true'], memoryMiB: 8 * 1024 * 1024 })).rejects.toThrow(/memoryMiB:/);
  });

  it('cancel: SIGTERM then exit → cancelled', async () => {
    const job = await h.runner.submit({ image, command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'] });
    await until('job running', () => h.runner.get(job.id)!.state === 'running', 15_000);
    await h.runner.cancel(job.id);
    const done = await h.runner.wait(job.id);
    expect(done).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(h.runner.events(job.id).map((e) => e.state)).toContain('stopping');
  });

  it('cancel while queued never creates a container', async () => {
    const job = await h.runner.submit({ image, command: ['true'] });
    await h.runner.cancel(job.id);
    const done = await h.runner.wait(job.id);
    expect(done.state).toBe('cancelled');
    expect(done.detail).toMatch(/before it started/);
  });

  it('maximum duration → timed-out', async () => {
    const job = await run({ command: ['sleep', '30'], timeoutSeconds: 1 });
    expect(job).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(job.endedAt! - job.startedAt!).toBeLessThan(5000);
  });

  it('pause freezes and resume thaws; paused time does not count against the maximum duration', async () => {
    const job = await h.runner.submit({ image, command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo tick $i; sleep 0.1; done'], timeoutSeconds: 2 });
    await until('job running', () => h.runner.get(job.id)!.state === 'running', 15_000);
    await h.runner.pauseAll();
    expect(h.runner.get(job.id)).toMatchObject({ state: 'paused', reason: 'paused' });
    expect(h.runner.runningCount()).toBe(0);
    const info = await h.docker.getContainer(h.db.prepare('SELECT container_id FROM jobs WHERE id = ?').pluck().get(job.id) as string).inspect();
    expect(info.State.Paused).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    await h.runner.resumeAll();
    const done = await h.runner.wait(job.id);
    expect(done.state).toBe('succeeded');
    expect(h.runner.events(job.id).map((e) => e.state)).toEqual(['queued', 'pulling', 'starting', 'running', 'paused', 'running', 'succeeded']);
    expect(done.usage!.runMs).toBeLessThan(done.usage!.wallMs);
  });

  it('a job that starts while the runner is paused is frozen as soon as it runs', async () => {
    await h.runner.pauseAll('Paused: test');
    const job = await h.runner.submit({ image, command: ['sleep', '30'] });
    await until('job paused', () => h.runner.get(job.id)!.state === 'paused', 15_000);
    expect(h.runner.get(job.id)!.detail).toBe('Paused: test');
    await h.runner.resumeAll();
    expect(h.runner.get(job.id)!.state).toBe('running');
    await h.runner.cancel(job.id);
    expect((await h.runner.wait(job.id)).state).toBe('cancelled');
  });

  it('a digest reference that cannot be pulled fails with the reason, nothing created', async () => {
    const ref = `offshift-test.invalid/none@sha256:${'1'.repeat(64)}`;
    const seen: string[] = [];
    const off = h.runner.onChange((j) => seen.push(j.state));
    const job = await run({ image: ref, command: ['true'] });
    off();
    expect(job).toMatchObject({ state: 'failed', reason: 'image-pull-failed' });
    expect(job.detail).toMatch(/Could not pull .*offshift-test.invalid/);
    expect(seen).toEqual(['queued', 'pulling', 'failed']);
    expect(h.logs.some((l) => l.id === job.id && l.stream === 'system' && l.text.includes('Pulling'))).toBe(true);
  });

  it('preemptAll ends running and paused jobs preempted', async () => {
    const a = await h.runner.submit({ image, command: ['sleep', '60'] });
    const b = await h.runner.submit({ image, command: ['sleep', '60'] });
    await until('both running', () => h.runner.get(a.id)!.state === 'running' && h.runner.get(b.id)!.state === 'running', 15_000);
    await h.runner.pauseAll();
    await h.runner.resumeAll();
    await h.runner.pauseAll();
    const t = Date.now();
    await h.runner.preemptAll(500);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(h.runner.get(a.id)).toMatchObject({ state: 'preempted', reason: 'preempted' });
    expect(h.runner.get(b.id)!.state).toBe('preempted');
    expect(h.runner.runningCount()).toBe(0);
  });

  it('refuses an unknown image id, a tag, a privileged flag and too many GPUs before creating anything', async () => {
    const missing = await h.runner.submit({ image: 'sha256:' + '0'.repeat(64), command: ['true'] });
    const done = await h.runner.wait(missing.id);
    expect(done).toMatchObject({ state: 'failed', reason: 'image-missing' });
    await expect(h.runner.submit({ image: 'busybox:latest', command: ['true'] })).rejects.toThrow(/not pinned/);
    await expect(h.runner.submit({ image, command: ['true'], privileged: true })).rejects.toThrow(/"privileged"/);
    await expect(h.runner.submit({ image, command: ['true'], gpus: 1 })).rejects.toThrow(/gpus: 1 asked, but this machine has 0 GPUs/);
  });
});
