import { describe, expect, it } from 'vitest';
import { endOfLife, type LifetimeFacts } from '../../../runtime/demo/lifetime.js';
import { DEFAULT_DEMO_TIMINGS, demoTimings } from '../../../runtime/demo/timing.js';
import { bounded, pause, Stopped } from '../../../runtime/demo/waits.js';

const base: LifetimeFacts = { owner: { pid: 42, alive: true }, homeExists: true, lastConnectedAt: 0, now: 0, idleMs: 60_000 };

describe("the demo network's lifetime", () => {
  it('runs while the agent that started it runs, however long it has no connection', () => {
    expect(endOfLife({ ...base, now: 10 * 3_600_000 })).toBeNull();
  });

  it('ends when that agent is gone, and says which', () => {
    expect(endOfLife({ ...base, owner: { pid: 42, alive: false } })).toMatch(/the agent that started it \(pid 42\) is gone/);
  });

  it('ends when its data folder is gone, before anything else', () => {
    expect(endOfLife({ ...base, homeExists: false })).toMatch(/data folder is gone/);
  });

  it('without an owning agent: waits idleMs from the last connection, then ends', () => {
    const unowned = { ...base, owner: null };
    expect(endOfLife({ ...unowned, lastConnectedAt: 1000, now: 60_999 })).toBeNull();
    expect(endOfLife({ ...unowned, lastConnectedAt: 1000, now: 61_000 })).toMatch(/no agent has been connected to it for 60 s/);
  });
});

describe("the demo buyer's time limits", () => {
  it('has defaults, and takes positive numbers of seconds from the environment', () => {
    expect(demoTimings({})).toEqual(DEFAULT_DEMO_TIMINGS);
    expect(demoTimings({ OFFSHIFT_DEMO_SUBMIT_TIMEOUT_SECONDS: '2.5', OFFSHIFT_DEMO_IDLE_SECONDS: '3' })).toMatchObject({ submitTimeoutMs: 2500, idleMs: 3000 });
    for (const bad of ['0', '-1', 'soon', '']) expect(demoTimings({ OFFSHIFT_DEMO_PAUSE_SECONDS: bad }).pauseMs).toBe(DEFAULT_DEMO_TIMINGS.pauseMs);
  });

  it('a wait that never ends ends at its time limit, or at once when stopped', async () => {
    const never = new Promise<never>(() => {});
    await expect(bounded(never, new AbortController().signal, 20, 'the market did not answer')).rejects.toThrow('the market did not answer');
    const stop = new AbortController();
    const waiting = bounded(never, stop.signal, 60_000, 'x');
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(Stopped);
    await expect(bounded(Promise.resolve(7), new AbortController().signal, 20, 'x')).resolves.toBe(7);
  });

  it('a pause ends early when stopped', async () => {
    const stop = new AbortController();
    const t0 = Date.now();
    const p = pause(60_000, stop.signal);
    stop.abort();
    await p;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
