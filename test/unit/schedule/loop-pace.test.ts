/**
 * The availability loop's pace: fast (250 ms) while work runs or is frozen, so the owner gets the
 * GPU back at once; slow (2 s) while nothing runs, so the idle agent stays asleep; a job starting
 * wakes it to the fast pace at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedSystemTimeZone, createAvailabilityLoop } from '../../../runtime/schedule/loop.js';
import { PolledGpuSignalSource } from '../../../runtime/schedule/sources/gpu.js';
import type { JobControl } from '../../../runtime/schedule/job-control.js';
import { noPolicy } from '../../../runtime/policy/schema.js';

describe('the availability loop\'s pace', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    let running = 0;
    let ticks = 0;
    const jobs: JobControl = { preemptAll: async () => void (running = 0), pauseAll: async () => {}, resumeAll: async () => {}, runningCount: () => running };
    const loop = createAvailabilityLoop({
      settings: () => ({ patch: { mode: 'always' }, problem: null }),
      policy: () => noPolicy,
      idle: null,
      processes: null,
      gpu: { description: 'fake', temperatureC: () => { ticks++; return null; }, processes: () => [] },
      battery: null,
      jobs,
      onDecision: () => {},
      timeZone: () => 'UTC',
    });
    return { loop, setRunning: (n: number) => (running = n), ticks: () => ticks };
  }

  it('ticks every 2 s while nothing runs, every 250 ms while a job runs; a job starting wakes it at once', async () => {
    const t = setup();
    t.loop.start();
    const afterStart = t.ticks();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.ticks() - afterStart).toBe(5);

    t.setRunning(1);
    const before = t.ticks();
    t.loop.wake();
    expect(t.ticks()).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.ticks() - before).toBe(5);

    t.setRunning(0);
    await vi.advanceTimersByTimeAsync(250); // one more fast tick sees nothing runs
    const idle = t.ticks();
    await vi.advanceTimersByTimeAsync(4000);
    expect(t.ticks() - idle).toBe(2);
    await t.loop.stop();
    const stopped = t.ticks();
    t.loop.wake();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.ticks()).toBe(stopped);
  });

  it('reads the system time zone at most once a minute', () => {
    let now = 0;
    const read = vi.fn(() => 'Europe/Paris');
    const tz = cachedSystemTimeZone(60_000, read, () => now);
    for (let i = 0; i < 100; i++) {
      expect(tz()).toBe('Europe/Paris');
      now += 500;
    }
    expect(read).toHaveBeenCalledTimes(1);
    now += 10_000;
    tz();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('the GPU process list: every 60 s while idle, every 10 s while work runs, refreshed at once when work starts', async () => {
    let lists = 0;
    const gpu = new PolledGpuSignalSource({ list: async () => (lists++, []) });
    gpu.setBusy(false);
    gpu.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(lists).toBe(1);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(lists).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lists).toBe(2);
    await vi.advanceTimersByTimeAsync(30_000);
    gpu.setBusy(true); // 30 s since the last list: refreshed now
    await vi.advanceTimersByTimeAsync(0);
    expect(lists).toBe(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(lists).toBe(6);
    gpu.stop();
  });
});
