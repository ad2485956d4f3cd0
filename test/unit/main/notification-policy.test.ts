import { describe, expect, it } from 'vitest';
import { decideNotification, emptyHistory, RATE_LIMIT, type NotifyEvent, type NotifyHistory } from '../../../main/notifications/policy.js';
import { defaultDesktopSettings } from '../../../runtime/desktop/schema.js';

const on = defaultDesktopSettings.notifications;
const T0 = new Date(2026, 10, 27, 10, 0, 0).getTime();
const st = (s: 'available' | 'working' | 'paused' | 'error', reason: string, detail = `${s}: ${reason}`) => ({ state: s, reason, detail, since: '' });

/** Runs events through the policy, returning the titles shown. */
function run(events: Array<[number, NotifyEvent]>, settings = on): string[] {
  let history: NotifyHistory = emptyHistory();
  const shown: string[] = [];
  for (const [at, event] of events) {
    const r = decideNotification(event, settings, history, at);
    history = r.history;
    if (r.show) shown.push(`${r.show.title}|${r.show.page}`);
  }
  return shown;
}

describe('the notification policy (pure)', () => {
  it('paused and resumed: the first time of each reason per day, not every flap', () => {
    const flap: Array<[number, NotifyEvent]> = [];
    let prev = st('available', 'ok');
    for (let i = 0; i < 6; i++) {
      const paused = st('paused', 'user-active', 'Paused: you are using the computer');
      flap.push([T0 + i * 120_000, { type: 'agent-state', previous: prev, next: paused }]);
      const back = st('available', 'ok');
      flap.push([T0 + i * 120_000 + 60_000, { type: 'agent-state', previous: paused, next: back }]);
      prev = back;
    }
    expect(run(flap)).toEqual(['Offshift paused|schedule', 'Offshift resumed|schedule']);
    // A new reason is news; the same reason the next day is too.
    const more: Array<[number, NotifyEvent]> = [
      [T0, { type: 'agent-state', previous: st('available', 'ok'), next: st('paused', 'user-active') }],
      [T0 + 1000, { type: 'agent-state', previous: st('paused', 'user-active'), next: st('paused', 'too-hot') }],
      [T0 + 24 * 3_600_000, { type: 'agent-state', previous: st('available', 'ok'), next: st('paused', 'user-active') }],
    ];
    expect(run(more)).toHaveLength(3);
  });

  it('the first start is not a "resumed", and an unchanged state is nothing', () => {
    expect(run([[T0, { type: 'agent-state', previous: null, next: st('available', 'ok') }]])).toEqual([]);
    expect(run([[T0, { type: 'agent-state', previous: st('paused', 'snoozed'), next: st('paused', 'snoozed') }]])).toEqual([]);
  });

  it('a failure names what failed and opens the system check, at most once an hour per reason', () => {
    const docker = st('error', 'docker-unreachable', 'Docker is not reachable: start Docker.');
    const ev: NotifyEvent = { type: 'agent-state', previous: st('available', 'ok'), next: docker };
    expect(run([[T0, ev], [T0 + 30 * 60_000, ev], [T0 + 61 * 60_000, ev]])).toEqual(['Docker is not reachable|system', 'Docker is not reachable|system']);
  });

  it('each job finished, with what it earned; each redemption; a GPU out of service once a day; the locked wallet once a day', () => {
    const shown = run([
      [T0, { type: 'job-finished', jobId: 'a', label: 'blender', ok: true, detail: 'Exited with code 0.', earned: '1.5 OFS' }],
      [T0 + 1, { type: 'job-finished', jobId: 'a', label: 'blender', ok: true, detail: 'Exited with code 0.', earned: '1.5 OFS' }],
      [T0 + 2, { type: 'vouchers-redeemed', amount: '3 OFS' }],
      [T0 + 3, { type: 'gpu-out-of-service', gpuKey: 'GPU-1', reason: 'a job left 512 MiB on it' }],
      [T0 + 4, { type: 'gpu-out-of-service', gpuKey: 'GPU-1', reason: 'a job left 512 MiB on it' }],
    ]);
    expect(shown).toEqual(['Job finished: blender|jobs', 'Earnings redeemed|earnings', 'A GPU was taken out of service|gpus']);
    expect(run([[T0, { type: 'wallet-locked' }], [T0 + 3_600_000, { type: 'wallet-locked' }]])).toEqual(['Your wallet is locked|wallet']);
    const r = decideNotification({ type: 'job-finished', jobId: 'b', label: 'x', ok: true, detail: 'Done.', earned: '2 OFS' }, on, emptyHistory(), T0);
    expect(r.show!.body).toBe('Done. Earned 2 OFS.');
  });

  it('each kind can be switched off in settings', () => {
    const off = { ...on, jobFinished: false, paused: false };
    expect(run([[T0, { type: 'job-finished', jobId: 'a', label: 'x', ok: true, detail: '', earned: null }]], off)).toEqual([]);
    expect(run([[T0, { type: 'agent-state', previous: st('available', 'ok'), next: st('paused', 'snoozed') }]], off)).toEqual([]);
    expect(run([[T0, { type: 'vouchers-redeemed', amount: null }]], off)).toHaveLength(1);
  });

  it('rate-limited: a storm of events makes at most a handful of notifications in ten minutes', () => {
    const storm: Array<[number, NotifyEvent]> = Array.from({ length: 50 }, (_, i) => [T0 + i * 1000, { type: 'job-finished', jobId: `j${i}`, label: 'x', ok: true, detail: '', earned: null }]);
    expect(run(storm)).toHaveLength(RATE_LIMIT);
    storm.push([T0 + 11 * 60_000, { type: 'job-finished', jobId: 'late', label: 'x', ok: true, detail: '', earned: null }]);
    expect(run(storm)).toHaveLength(RATE_LIMIT + 1);
  });

  it('close-to-tray is said once, whatever the settings', () => {
    const allOff = Object.fromEntries(Object.keys(on).map((k) => [k, false])) as typeof on;
    expect(run([[T0, { type: 'close-to-tray' }], [T0 + 86_400_000 * 3, { type: 'close-to-tray' }]], allOff)).toEqual(['Offshift is still running|null']);
  });
});
