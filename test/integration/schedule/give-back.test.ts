/**
 * Giving the GPU back, end to end: the real agent (real runner, real Docker engine, fake
 * nvidia-smi so it has GPUs) with a busy job; a fake idle source reports the owner's return.
 * "stop": the job ends `preempted` and the agent is paused; idle again → available, by itself.
 * "pause": the container is frozen (Docker says Paused) and thawed when idle returns; frozen for
 * longer than pauseGraceMinutes → stopped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import type { AgentState } from '../../../runtime/agent/schema.js';
import type { Job } from '../../../runtime/jobs/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import { createOwnJobMatcher, listManagedContainerIds } from '../../../runtime/schedule/sources/own-jobs.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';

const skipReason = canBuildTestImage();
if (skipReason) console.warn(`[schedule give-back] skipped: ${skipReason}`);

const BUSY = ['sh', '-c', 'while true; do :; done'];

/** Polls with this file's 15 s default. */
function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000) {
  return until(what, fn, timeoutMs);
}

describe.skipIf(skipReason !== null)('giving the GPU back (real agent, real runner, real containers)', () => {
  let agent: Agent;
  let fake: FakeGpuTools;
  let temp: ReturnType<typeof makeTempHome>;
  let image: string;
  const idle = new ManualIdleSource(3600);
  const states: AgentState[] = [];

  beforeAll(async () => {
    image = sandboxTestImage();
    temp = makeTempHome('offshift-giveback-');
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    agent = createAgent({
      home: temp.home,
      env: fake.env({ ...process.env, TZ: 'UTC' }),
      log: silentLogger,
      idleSource: idle,
      policyFile: path.join(temp.home, 'no-policy.json'),
    });
    agent.bus.subscribe((event, payload) => {
      if (event === 'agent.state') states.push(payload as AgentState);
    });
    await agent.start();
    await waitFor('available', () => agent.state.value.state === 'available');
  });

  afterAll(async () => {
    if (!agent) return;
    const instance = agent.jobs.runner.agentInstance;
    await agent.jobs.runner.preemptAll(0).catch(() => {});
    await agent.stop();
    const docker = (await import('../../../runtime/engine/index.js')).connectDocker();
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${instance}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    fake?.cleanup();
    temp?.cleanup();
  });

  // Whatever a test leaves behind (a failure half-way), the next one starts clean.
  afterEach(async () => {
    await agent.jobs.runner.preemptAll(0).catch(() => {});
    idle.set(3600);
    await waitFor('available between tests', () => agent.state.value.state === 'available', 10_000).catch(() => {});
  });

  const startBusyJob = async (): Promise<Job> => {
    const job = await agent.jobs.runner.submit({ image, command: BUSY, cpus: 0.5, memoryMiB: 64 });
    await waitFor('the job running', () => agent.jobs.runner.get(job.id)?.state === 'running', 20_000).catch((error: unknown) => {
      const j = agent.jobs.runner.get(job.id);
      throw new Error(`${String(error)}: the job is ${j?.state} (${j?.detail}); the agent is ${agent.state.value.state} (${agent.state.value.detail})`);
    });
    await waitFor('state working', () => agent.state.value.state === 'working');
    return job;
  };

  it('"stop": the owner returns → the job ends preempted, the agent is paused; idle again → available', async () => {
    await agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });
    const job = await startBusyJob();
    const t0 = Date.now();
    idle.activity();
    expect(agent.state.value).toMatchObject({ state: 'paused', reason: 'user-active' });
    expect(agent.state.value.detail).toMatch(/you are using the computer/);
    const done = await agent.jobs.runner.wait(job.id);
    const ms = Date.now() - t0;
    expect(done).toMatchObject({ state: 'preempted' });
    expect(ms).toBeLessThan(5000);
    console.log(`[give-back] stop: job preempted ${ms} ms after the owner returned`);
    const docker = (await import('../../../runtime/engine/index.js')).connectDocker();
    expect(await docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${job.id}`] } })).toEqual([]);

    idle.set(3600);
    await waitFor('available again', () => agent.state.value.state === 'available', 3000);
    expect(states.map((s) => s.state).slice(-3)).toEqual(['working', 'paused', 'available']);
  });

  it('"pause": the owner returns → the container is frozen; idle again → thawed and working', async () => {
    await agent.client().call('schedule.set', { onUserReturn: 'pause', pauseGraceMinutes: 10 });
    const job = await startBusyJob();
    const docker = (await import('../../../runtime/engine/index.js')).connectDocker();
    const container = await waitFor('the container', async () => (await docker.listContainers({ filters: { label: [`io.offshift.job=${job.id}`] } }))[0]?.Id);
    idle.activity();
    await waitFor('frozen', async () => (await docker.getContainer(container).inspect()).State.Paused, 5000);
    await waitFor('the job paused', () => agent.jobs.runner.get(job.id)?.state === 'paused', 5000);
    expect(agent.state.value).toMatchObject({ state: 'paused', reason: 'user-active' });

    idle.set(3600);
    await waitFor('thawed', async () => !(await docker.getContainer(container).inspect()).State.Paused, 5000);
    await waitFor('running again', () => agent.jobs.runner.get(job.id)?.state === 'running');
    await waitFor('working', () => agent.state.value.state === 'working');
    await agent.jobs.runner.cancel(job.id);
    await agent.jobs.runner.wait(job.id);
  });

  it('"pause": frozen longer than pauseGraceMinutes → stopped (preempted)', async () => {
    await agent.client().call('schedule.set', { onUserReturn: 'pause', pauseGraceMinutes: 0.02, stopGraceSeconds: 1 }); // 1.2 s
    await waitFor('available', () => agent.state.value.state === 'working' || agent.state.value.state === 'available');
    const job = await startBusyJob();
    idle.activity();
    await waitFor('paused', () => agent.jobs.runner.get(job.id)?.state === 'paused', 5000);
    const done = await agent.jobs.runner.wait(job.id);
    expect(done.state).toBe('preempted');
    idle.set(3600);
    await waitFor('available again', () => agent.state.value.state === 'available', 3000);
    // The next job runs (is not held frozen by the earlier pause).
    const next = await startBusyJob();
    await new Promise((r) => setTimeout(r, 500));
    expect(agent.jobs.runner.get(next.id)?.state).toBe('running');
    await agent.jobs.runner.cancel(next.id);
    await agent.jobs.runner.wait(next.id);
  });

  it('an admin policy file that turns malformed is seen at once: work stops, the system check fails; fixed → available', async () => {
    const policyFile = path.join(temp.home, 'no-policy.json');
    await agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });
    const job = await startBusyJob();
    fs.writeFileSync(policyFile, '{ "mandatory": { "schedule": { "mode": "sometimes" } } }');
    await waitFor('policy-invalid', () => agent.state.value.reason === 'policy-invalid', 5000);
    expect(agent.state.value.detail).toContain('mandatory.schedule.mode');
    expect((await agent.jobs.runner.wait(job.id)).state).toBe('preempted');
    const check = await agent.client().call('system.check');
    expect(check.items.find((i) => i.id === 'admin-policy')).toMatchObject({ status: 'fail', detail: policyFile });
    await expect(agent.client().call('schedule.set', { idle: { minutes: 3 } })).rejects.toMatchObject({ code: 'policy-invalid' });

    fs.writeFileSync(policyFile, JSON.stringify({ mandatory: { schedule: { pauseOnBattery: true } } }));
    await waitFor('available again', () => agent.state.value.state === 'available', 5000);
    expect((await agent.client().call('schedule.get')).locked).toEqual(['schedule.pauseOnBattery']);
    fs.rmSync(policyFile);
    await waitFor('no policy', async () => (await agent.client().call('schedule.get')).policy.state === 'none', 5000);
  });

  it("a job's processes are recognised as Offshift's own (they never count as foreign GPU use)", async () => {
    await agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });
    const job = await startBusyJob();
    const docker = (await import('../../../runtime/engine/index.js')).connectDocker();
    const id = await waitFor('the container', async () => (await docker.listContainers({ filters: { label: [`io.offshift.job=${job.id}`] } }))[0]?.Id);
    const pid = (await docker.getContainer(id).inspect()).State.Pid;
    const isOwn = createOwnJobMatcher(() => listManagedContainerIds());
    expect(await isOwn(pid)).toBe(true);
    expect(await isOwn(process.pid)).toBe(false);
    await agent.jobs.runner.cancel(job.id);
    await agent.jobs.runner.wait(job.id);
  });

  it('a snooze through the API gives the GPU back too, and resume makes the agent available', async () => {
    await agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });
    const job = await startBusyJob();
    await agent.client().call('agent.pause', { forMinutes: 30 });
    expect(agent.state.value).toMatchObject({ state: 'paused', reason: 'snoozed' });
    expect((await agent.jobs.runner.wait(job.id)).state).toBe('preempted');
    await agent.client().call('agent.resume');
    await waitFor('available again', () => agent.state.value.state === 'available', 3000);
  });
});
