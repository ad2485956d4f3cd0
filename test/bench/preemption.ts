/**
 * Giving the GPU back (issue 4, "Measured"), on the real runner and the real Docker engine:
 *  1. "pause": 50 trials with a busy job running: the time from the signal (the fake idle
 *     source reporting the owner's return) to the container frozen (Docker's `pause` event,
 *     as received here). Target: p99 ≤ 0.5 s.
 *  2. "stop", 1 s grace: 50 trials, each with a fresh busy job that ignores SIGTERM (the worst
 *     case: it must be killed at the end of the grace): signal → container gone (Docker's
 *     `destroy` event, as received here). Target: p99 ≤ 1.5 s. Also reported: signal → `die`.
 *  3. The CPU cost of the signal loop over 60 s (4 ticks a second; /proc process scan with an
 *     exclusive-apps list, sysfs battery, logind idle, schedule windows, no jobs): CPU of this
 *     process and its reaped children. Target: < 1 % of one core.
 * The loop is the agent's own (createAvailabilityLoop) with JobControl = the real JobRunner.
 * Run: npx tsx test/bench/preemption.ts   (OFFSHIFT_BENCH_TRIALS, OFFSHIFT_BENCH_LOOP_S shorten it)
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { JobRunner } from '../../runtime/jobs/runner.js';
import { noPolicy } from '../../runtime/policy/schema.js';
import { connectDocker } from '../../runtime/engine/index.js';
import type { JobControl } from '../../runtime/schedule/job-control.js';
import { createAvailabilityLoop, type AvailabilityLoop } from '../../runtime/schedule/loop.js';
import type { SchedulePatch } from '../../runtime/schedule/schema.js';
import { SysfsBatterySource } from '../../runtime/schedule/sources/battery.js';
import { LogindIdleSource } from '../../runtime/schedule/sources/idle-logind.js';
import { ManualIdleSource } from '../../runtime/schedule/sources/idle.js';
import { ProcFsProcessSource } from '../../runtime/schedule/sources/processes.js';
import { DATABASE_FILE, openDatabase } from '../../runtime/storage/database.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { until } from '../helpers/until.js';
import { canBuildTestImage, sandboxTestImage } from '../helpers/test-images.js';

const TRIALS = Number(process.env.OFFSHIFT_BENCH_TRIALS ?? 50);
const LOOP_S = Number(process.env.OFFSHIFT_BENCH_LOOP_S ?? 60);
const BUSY = ['sh', '-c', 'while true; do :; done'];
const BUSY_IGNORING_TERM = ['sh', '-c', 'trap "" TERM; while true; do :; done'];
const ALL_WEEK = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, start: '00:00', end: '00:00' }].map((w) => ({ ...w, days: [...w.days] }));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/** Docker events for containers, as they arrive here (performance.now()). */
async function watchEvents(docker: Docker): Promise<{ wait(id: string, action: string, timeoutMs?: number): Promise<number>; close(): void }> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['pause', 'unpause', 'die', 'destroy'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
  const seen = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    const t = performance.now();
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { Action?: string; status?: string; id?: string; Actor?: { ID?: string } };
      const key = `${e.Actor?.ID ?? e.id}:${e.Action ?? e.status}`;
      const w = waiters.get(key);
      if (w) {
        waiters.delete(key);
        w(t);
      } else seen.set(key, t);
    }
  });
  return {
    wait(id, action, timeoutMs = 10_000) {
      const key = `${id}:${action}`;
      const already = seen.get(key);
      if (already !== undefined) {
        seen.delete(key);
        return Promise.resolve(already);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${action} event for ${id.slice(0, 12)} in ${timeoutMs} ms`)), timeoutMs);
        waiters.set(key, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close() {
      stream.destroy?.();
    },
  };
}

/** The bench polls every 10 ms: it measures latencies. */
const FAST = { intervalMs: 10 };

function cpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

export default async function main(): Promise<void> {
  const why = canBuildTestImage();
  if (why) {
    console.log(`preemption: skipped (${why})`);
    return;
  }
  const image = sandboxTestImage();
  const { home, cleanup } = makeTempHome('offshift-bench-preempt-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const docker = connectDocker();
  const runner = new JobRunner({ db, docker, home, graceMs: 1000 });
  const events = await watchEvents(docker);
  const idle = new ManualIdleSource(3600);
  // The loop's own share: when the runner is asked to act, after the signal.
  let asked = 0;
  const jobs: JobControl = {
    preemptAll: (g) => ((asked = performance.now()), runner.preemptAll(g)),
    pauseAll: () => ((asked = performance.now()), runner.pauseAll()),
    resumeAll: () => runner.resumeAll(),
    runningCount: () => runner.runningCount(),
  };
  let settings: SchedulePatch = { onUserReturn: 'pause', stopGraceSeconds: 1, exclusiveApps: ['cs2.exe'], windows: ALL_WEEK };
  const loop: AvailabilityLoop = createAvailabilityLoop({
    settings: () => ({ patch: settings, problem: null }),
    policy: () => noPolicy,
    idle,
    processes: new ProcFsProcessSource(),
    gpu: null,
    battery: new SysfsBatterySource(),
    jobs,
    onDecision: () => {},
  });
  const containerOf = async (jobId: string) => {
    let id: string | undefined;
    await until(
      'the container',
      async () => {
        id = (await docker.listContainers({ filters: { label: [`io.offshift.job=${jobId}`] } }))[0]?.Id;
        return id !== undefined;
      },
      20_000,
      FAST,
    );
    return id!;
  };
  const backToIdle = async () => {
    idle.set(3600);
    loop.tick();
    await loop.settled();
  };

  try {
    loop.start();
    console.log(`preemption: real JobRunner on the real Docker engine, busy busybox jobs, ${TRIALS} trials each (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);

    // 1. pause → frozen
    const frozen: number[] = [];
    const askedPause: number[] = [];
    const askedStop: number[] = [];
    const job = await runner.submit({ image, command: BUSY, cpus: 0.5, memoryMiB: 64 });
    const container = await containerOf(job.id);
    await until('running', () => runner.get(job.id)?.state === 'running', 20_000, FAST);
    for (let i = 0; i < TRIALS; i++) {
      await until('running', () => runner.get(job.id)?.state === 'running', 20_000, FAST);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      idle.activity();
      const t1 = await events.wait(container, 'pause');
      frozen.push(t1 - t0);
      askedPause.push(asked - t0);
      await loop.settled();
      await backToIdle();
      await events.wait(container, 'unpause');
    }
    await runner.cancel(job.id);
    await runner.wait(job.id);

    // 2. stop (1 s grace) → gone
    settings = { ...settings, onUserReturn: 'stop' };
    loop.invalidate();
    await backToIdle();
    const died: number[] = [];
    const gone: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const j = await runner.submit({ image, command: BUSY_IGNORING_TERM, cpus: 0.5, memoryMiB: 64 });
      const c = await containerOf(j.id);
      await until('running', () => runner.get(j.id)?.state === 'running', 20_000, FAST);
      await new Promise((r) => setTimeout(r, 100)); // the trap is set
      const t0 = performance.now();
      idle.activity();
      const [tDie, tGone] = await Promise.all([events.wait(c, 'die'), events.wait(c, 'destroy')]);
      died.push(tDie - t0);
      askedStop.push(asked - t0);
      gone.push(tGone - t0);
      const done = await runner.wait(j.id);
      if (done.state !== 'preempted') throw new Error(`trial ${i}: job ended ${done.state}, not preempted`);
      await backToIdle();
    }

    console.log(`signal → runner asked (the loop's share): pause p50 ${fmt(pct(askedPause, 50))} p99 ${fmt(pct(askedPause, 99))}; stop p50 ${fmt(pct(askedStop, 50))} p99 ${fmt(pct(askedStop, 99))}`);
    console.log(`signal → frozen (pause):          p50 ${fmt(pct(frozen, 50))}  p99 ${fmt(pct(frozen, 99))}  max ${fmt(Math.max(...frozen))}  (target p99 ≤ 0.500 s)`);
    console.log(`signal → exited (stop, 1 s grace): p50 ${fmt(pct(died, 50))}  p99 ${fmt(pct(died, 99))}`);
    console.log(`signal → gone (stop, 1 s grace):   p50 ${fmt(pct(gone, 50))}  p99 ${fmt(pct(gone, 99))}  max ${fmt(Math.max(...gone))}  (target p99 ≤ 1.500 s; the job ignores SIGTERM)`);
    await loop.stop();

    // 3. CPU cost of the signal loop alone.
    events.close();
    const quiet = createAvailabilityLoop({
      settings: () => ({ patch: { exclusiveApps: ['cs2.exe', 'steam'], windows: ALL_WEEK }, problem: null }),
      policy: () => noPolicy,
      idle: process.platform === 'linux' ? new LogindIdleSource() : null,
      processes: new ProcFsProcessSource(),
      gpu: null,
      battery: new SysfsBatterySource(),
      jobs: null,
      onDecision: () => {},
    });
    const procCount = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
    quiet.start();
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = cpuSeconds();
    const w0 = performance.now();
    let ticks = 0;
    const counter = setInterval(() => ticks++, 250);
    await new Promise((r) => setTimeout(r, LOOP_S * 1000));
    clearInterval(counter);
    const cpu = cpuSeconds() - c0;
    const wall = (performance.now() - w0) / 1000;
    await quiet.stop();
    console.log(
      `signal loop CPU over ${wall.toFixed(0)} s (250 ms ticks, ${procCount} processes in /proc): ${(cpu * 1000).toFixed(0)} ms CPU = ${((cpu / wall) * 100).toFixed(2)} % of one core  (target < 1 %)`,
    );
  } finally {
    events.close();
    await loop.stop().catch(() => {});
    await runner.preemptAll(0).catch(() => {});
    await runner.close();
    const left = await docker.listContainers({ all: true, filters: { label: [`io.offshift.agent=${runner.agentInstance}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    db.close();
    cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
