import { describe, expect, it } from 'vitest';
import type { JobControl } from '../../../runtime/schedule/job-control.js';
import { createAvailabilityLoop } from '../../../runtime/schedule/loop.js';
import type { Decision, SchedulePatch } from '../../../runtime/schedule/schema.js';
import { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import type { GpuSignalSource } from '../../../runtime/schedule/sources/gpu.js';
import { noPolicy, type LoadedPolicy } from '../../../runtime/policy/schema.js';

/** Like the runner: paused jobs do not count as running. */
class FakeJobs implements JobControl {
  calls: string[] = [];
  running = 1;
  paused = 0;
  async preemptAll(graceMs?: number) {
    this.calls.push(`preempt:${graceMs}`);
    this.running = 0;
    this.paused = 0;
  }
  async pauseAll() {
    this.calls.push('pause');
    this.paused += this.running;
    this.running = 0;
  }
  async resumeAll() {
    this.calls.push('resume');
    this.running += this.paused;
    this.paused = 0;
  }
  runningCount() {
    return this.running;
  }
}

function setup(patch: SchedulePatch = {}, policy: LoadedPolicy = noPolicy) {
  let now = new Date('2026-11-25T12:00:00Z');
  const idle = new ManualIdleSource(3600);
  const jobs = new FakeJobs();
  const decisions: Decision[] = [];
  let temp: number | null = null;
  const gpu: GpuSignalSource = { description: 'fake', temperatureC: () => temp, processes: () => [] };
  const state = { patch, policy };
  const loop = createAvailabilityLoop({
    settings: () => ({ patch: state.patch, problem: null }),
    policy: () => state.policy,
    idle,
    processes: { description: 'fake', names: () => ['bash'] },
    gpu,
    battery: { description: 'fake', onBattery: () => false },
    jobs,
    onDecision: (d) => decisions.push(d),
    now: () => now,
    timeZone: () => 'UTC',
  });
  return {
    loop,
    idle,
    jobs,
    decisions,
    state,
    setTemp: (t: number | null) => (temp = t),
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

describe('availability loop', () => {
  it('reports a decision only when it changes', async () => {
    const t = setup();
    t.loop.tick();
    t.loop.tick();
    t.loop.tick();
    expect(t.decisions.map((d) => d.reason)).toEqual(['ok']);
    t.idle.set(10);
    t.loop.tick();
    t.loop.tick();
    expect(t.decisions.map((d) => d.reason)).toEqual(['ok', 'user-active']);
    await t.loop.settled();
  });

  it('"stop": the user returns → preemptAll with the stop grace; idle again → available, no resume needed', async () => {
    const t = setup({ stopGraceSeconds: 1 });
    t.loop.tick();
    t.idle.set(0);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['preempt:1000']);
    t.idle.set(600);
    t.loop.tick();
    await t.loop.settled();
    expect(t.decisions.at(-1)).toMatchObject({ run: true, reason: 'ok' });
    expect(t.jobs.calls).toEqual(['preempt:1000']);
  });

  it('"stop": a job still running while work may not run is stopped again', async () => {
    const t = setup();
    t.loop.tick();
    t.idle.set(0);
    t.loop.tick();
    await t.loop.settled();
    t.jobs.running = 1; // started in a race
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['preempt:2000', 'preempt:2000']);
  });

  it('"pause": freeze on return, thaw when idle again', async () => {
    const t = setup({ onUserReturn: 'pause' });
    t.loop.tick();
    t.idle.set(0);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause']);
    t.idle.set(600);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause', 'resume']);
  });

  it('"pause": stopped once frozen for pauseGraceMinutes', async () => {
    const t = setup({ onUserReturn: 'pause', pauseGraceMinutes: 10 });
    t.loop.tick();
    t.idle.set(0);
    t.loop.tick();
    t.advance(9 * 60_000);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause']);
    t.advance(60_000);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause', 'preempt:2000']);
    // Idle again later: nothing frozen to thaw, but the runner's hold on new jobs is released.
    t.idle.set(600);
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause', 'preempt:2000', 'resume']);
  });

  it('"pause": a job that starts while frozen is frozen too', async () => {
    const t = setup({ onUserReturn: 'pause' });
    t.loop.tick();
    t.idle.set(0);
    t.loop.tick();
    await t.loop.settled();
    t.jobs.running = 1;
    t.loop.tick();
    await t.loop.settled();
    t.loop.tick();
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['pause', 'pause']);
    expect(t.jobs.paused).toBe(2);
  });

  it('a change of reason while paused does not act again', async () => {
    const t = setup({ onUserReturn: 'pause', exclusiveApps: ['bash'] });
    t.loop.tick(); // exclusive-app
    t.state.patch = { onUserReturn: 'pause' };
    t.idle.set(0);
    t.loop.invalidate(); // user-active
    await t.loop.settled();
    expect(t.decisions.map((d) => d.reason)).toEqual(['exclusive-app', 'user-active']);
    expect(t.jobs.calls).toEqual(['pause']);
  });

  it('hysteresis across ticks: pauses at 83 °C, stays paused until below 75 °C', () => {
    const t = setup();
    const seq: Array<[number, boolean]> = [[70, true], [83, false], [80, false], [75, false], [74, true], [80, true]];
    for (const [temp, run] of seq) {
      t.setTemp(temp);
      expect(t.loop.tick().run, `at ${temp} °C`).toBe(run);
    }
  });

  it('a snooze expires by itself on the clock', () => {
    const t = setup({ snoozeUntil: '2026-11-25T12:30:00Z' });
    expect(t.loop.tick().reason).toBe('snoozed');
    t.advance(29 * 60_000);
    expect(t.loop.tick().reason).toBe('snoozed');
    t.advance(60_000);
    expect(t.loop.tick().reason).toBe('ok');
  });

  it('a policy that turns invalid stops work; fixed, work runs again', async () => {
    const t = setup();
    expect(t.loop.tick().run).toBe(true);
    t.state.policy = { state: 'invalid', file: '/etc/offshift/policy.json', message: 'not valid JSON' };
    t.loop.invalidate();
    expect(t.loop.decision).toMatchObject({ run: false, reason: 'policy-invalid' });
    await t.loop.settled();
    expect(t.jobs.calls).toEqual(['preempt:2000']);
    t.state.policy = noPolicy;
    t.loop.invalidate();
    expect(t.loop.decision).toMatchObject({ run: true });
  });

  it('a pushed activity reacts at once, without waiting for a tick', async () => {
    const t = setup();
    t.loop.start();
    expect(t.loop.decision?.run).toBe(true);
    t.idle.activity();
    expect(t.loop.decision).toMatchObject({ run: false, reason: 'user-active' });
    await t.loop.stop();
    expect(t.jobs.calls).toEqual(['preempt:2000']);
  });

  it('notes "no idle source: schedule only" when there is none', async () => {
    const loop = createAvailabilityLoop({
      settings: () => ({ patch: {}, problem: null }),
      policy: () => noPolicy,
      idle: null,
      processes: null,
      gpu: null,
      battery: null,
      jobs: null,
      onDecision: () => {},
      timeZone: () => 'UTC',
    });
    loop.start();
    expect(loop.notes()).toEqual(['no idle source: schedule only']);
    expect(loop.decision).toMatchObject({ run: true, detail: 'Available: no idle source: schedule only.' });
    await loop.stop();
  });

  it('a broken settings file stops work and says so', () => {
    const loop = createAvailabilityLoop({
      settings: () => ({ patch: undefined, problem: 'schedule.idle.minutes: expected number' }),
      policy: () => noPolicy,
      idle: null,
      processes: null,
      gpu: null,
      battery: null,
      jobs: null,
      onDecision: () => {},
    });
    expect(loop.tick()).toMatchObject({ run: false, reason: 'settings-invalid' });
    expect(loop.decision?.detail).toContain('schedule.idle.minutes');
  });
});
