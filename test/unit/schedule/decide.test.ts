import { describe, expect, it } from 'vitest';
import { decide, decideEffective, nextHeatLatch } from '../../../runtime/schedule/decide.js';
import { defaultScheduleSettings, type ScheduleSettings, type SchedulePatch } from '../../../runtime/schedule/schema.js';
import { emptySignals, type Signals } from '../../../runtime/schedule/signals.js';
import { noPolicy, type LoadedPolicy } from '../../../runtime/policy/schema.js';

const NOW = new Date('2026-11-25T12:00:00Z'); // a Wednesday
const idle: Signals = { ...emptySignals, idleSeconds: 3600, systemTimeZone: 'UTC' };
const settings = (patch: SchedulePatch = {}): SchedulePatch => patch;
const d = (patch: SchedulePatch, signals: Partial<Signals> = {}, now = NOW, policy: LoadedPolicy = noPolicy) =>
  decide(now, { ...idle, ...signals }, settings(patch), policy);

describe('decide: each rule', () => {
  it('defaults with an idle user: run, ok', () => {
    expect(d({})).toEqual({ run: true, reason: 'ok', detail: 'Available: waiting for work.' });
  });
  it('1. mode never', () => {
    expect(d({ mode: 'never' })).toMatchObject({ run: false, reason: 'mode-never' });
  });
  it('2. snoozed until a future time, with the time in the detail; expired snooze no longer applies', () => {
    const r = d({ snoozeUntil: '2026-11-25T13:30:00Z' });
    expect(r).toMatchObject({ run: false, reason: 'snoozed' });
    expect(r.detail).toContain('13:30');
    expect(d({ snoozeUntil: '2026-11-25T12:00:00Z' })).toMatchObject({ run: true, reason: 'ok' }); // expires at the instant
    expect(d({ snoozeUntil: '2026-11-25T11:59:59Z' })).toMatchObject({ run: true, reason: 'ok' });
    expect(d({ snoozeUntil: '2026-11-25T12:00:01Z' })).toMatchObject({ run: false, reason: 'snoozed' });
  });
  it('2. paused until resumed', () => {
    expect(d({ pausedUntilResumed: true })).toMatchObject({ run: false, reason: 'snoozed', detail: 'Paused by you until you resume.' });
  });
  it('3. too hot at pauseAtC', () => {
    expect(d({}, { gpuTemperatureC: 83 })).toMatchObject({ run: false, reason: 'too-hot' });
    expect(d({}, { gpuTemperatureC: 82.9 })).toMatchObject({ run: true });
  });
  it('3. hysteresis: paused for heat stays paused until below resumeBelowC', () => {
    expect(d({}, { gpuTemperatureC: 80, pausedForHeat: true })).toMatchObject({ run: false, reason: 'too-hot' });
    expect(d({}, { gpuTemperatureC: 75, pausedForHeat: true })).toMatchObject({ run: false, reason: 'too-hot' });
    expect(d({}, { gpuTemperatureC: 74.9, pausedForHeat: true })).toMatchObject({ run: true });
    expect(d({}, { gpuTemperatureC: null, pausedForHeat: true })).toMatchObject({ run: false, reason: 'too-hot' });
    expect(d({}, { gpuTemperatureC: 80, pausedForHeat: false })).toMatchObject({ run: true });
  });
  it('3. the heat latch: set at pauseAtC, kept in between, cleared below resumeBelowC', () => {
    const t = { pauseAtC: 83, resumeBelowC: 75 };
    let latch = false;
    const seq: Array<[number | null, boolean]> = [
      [70, false], [82, false], [83, true], [80, true], [76, true], [null, true], [75, true], [74, false], [80, false], [90, true],
    ];
    for (const [temp, expected] of seq) {
      latch = nextHeatLatch(latch, temp, t);
      expect(latch, `at ${temp}`).toBe(expected);
    }
  });
  it('3. the detail does not change with every degree (no state churn)', () => {
    expect(d({}, { gpuTemperatureC: 84 }).detail).toBe(d({}, { gpuTemperatureC: 90 }).detail);
  });
  it('4. on battery, unless pauseOnBattery is off; unknown battery never pauses', () => {
    expect(d({}, { onBattery: true })).toMatchObject({ run: false, reason: 'on-battery' });
    expect(d({ pauseOnBattery: false }, { onBattery: true })).toMatchObject({ run: true });
    expect(d({}, { onBattery: null })).toMatchObject({ run: true });
  });
  it('5. an exclusive app: base name, any case, with or without .exe, any folder', () => {
    const apps = { exclusiveApps: ['cs2.exe', 'steam'] };
    expect(d(apps, { processes: ['bash', 'cs2.exe'] })).toEqual({ run: false, reason: 'exclusive-app', detail: 'Paused: cs2.exe is running.' });
    expect(d(apps, { processes: ['CS2.EXE'] })).toMatchObject({ reason: 'exclusive-app', detail: 'Paused: CS2.EXE is running.' });
    expect(d(apps, { processes: ['cs2'] })).toMatchObject({ reason: 'exclusive-app' });
    expect(d(apps, { processes: ['C:\\Program Files\\Steam\\steamapps\\common\\cs2.exe'] })).toMatchObject({ detail: 'Paused: cs2.exe is running.' });
    expect(d(apps, { processes: ['/home/me/.steam/steam.exe'] })).toMatchObject({ detail: 'Paused: steam.exe is running.' });
    expect(d(apps, { processes: ['Steam'] })).toMatchObject({ reason: 'exclusive-app' });
    expect(d(apps, { processes: ['steamwebhelper', 'cs2x', 'xcs2.exe'] })).toMatchObject({ run: true });
    expect(d({ exclusiveApps: ['C:\\Games\\Dota2.exe'] }, { processes: ['dota2'] })).toMatchObject({ reason: 'exclusive-app' });
  });
  it('5. Linux truncates comm to 15 characters: still matched', () => {
    expect(d({ exclusiveApps: ['counterstrike-launcher'] }, { processes: ['counterstrike-l'] })).toMatchObject({ reason: 'exclusive-app' });
  });
  it('6. foreign GPU use at foreignGpuMinMiB, naming the process', () => {
    expect(d({}, { gpuProcesses: [{ name: '/usr/bin/blender', usedMemoryMiB: 1024 }] })).toEqual({
      run: false,
      reason: 'foreign-gpu-use',
      detail: 'Paused: blender is using the GPU (1024 MiB).',
    });
    expect(d({}, { gpuProcesses: [{ name: 'blender', usedMemoryMiB: 1023 }] })).toMatchObject({ run: true });
    expect(d({ pauseOnForeignGpuUse: false }, { gpuProcesses: [{ name: 'blender', usedMemoryMiB: 9000 }] })).toMatchObject({ run: true });
    expect(d({}, { gpuProcesses: [{ name: 'blender', usedMemoryMiB: null }] })).toMatchObject({ run: true });
  });
  it('6. compositors never count', () => {
    for (const name of ['Xorg', '/usr/lib/xorg/Xorg', 'Xwayland', 'gnome-shell', 'kwin_wayland', 'kwin_x11', 'dwm.exe', 'C:\\Windows\\System32\\dwm.exe']) {
      expect(d({}, { gpuProcesses: [{ name, usedMemoryMiB: 4096 }] }), name).toMatchObject({ run: true });
    }
  });
  it("6. Offshift's own job processes never count", () => {
    expect(d({}, { gpuProcesses: [{ pid: 7, name: 'python', usedMemoryMiB: 20000, ownJob: true }] })).toMatchObject({ run: true });
  });
  it('7. mode always runs outside the schedule and while the user is active', () => {
    const s = { mode: 'always' as const, windows: [{ days: ['mon' as const], start: '01:00', end: '02:00' }] };
    expect(d(s, { idleSeconds: 0 })).toEqual({ run: true, reason: 'mode-always', detail: 'Available: set to always run.' });
  });
  it('8. outside the schedule', () => {
    expect(d({ windows: [{ days: ['mon'], start: '22:00', end: '07:00' }] })).toMatchObject({ run: false, reason: 'outside-schedule' });
    expect(d({ windows: [{ days: ['wed'], start: '11:00', end: '13:00' }] })).toMatchObject({ run: true, reason: 'ok' });
  });
  it('9. user active below idle.minutes; idle not required runs anyway', () => {
    expect(d({}, { idleSeconds: 299 })).toMatchObject({ run: false, reason: 'user-active' });
    expect(d({}, { idleSeconds: 300 })).toMatchObject({ run: true, reason: 'ok' });
    expect(d({ idle: { required: false } }, { idleSeconds: 0 })).toMatchObject({ run: true, reason: 'ok' });
    expect(d({ idle: { minutes: 0 } }, { idleSeconds: 0 })).toMatchObject({ run: true });
  });
  it('9. no idle source: idle counts as satisfied and the detail says so', () => {
    expect(d({}, { idleSeconds: null })).toEqual({ run: true, reason: 'ok', detail: 'Available: no idle source: schedule only.' });
  });
});

describe('decide: precedence (the first rule that applies wins)', () => {
  const everything: Partial<Signals> = {
    idleSeconds: 0,
    processes: ['cs2.exe'],
    gpuProcesses: [{ name: 'blender', usedMemoryMiB: 5000 }],
    gpuTemperatureC: 95,
    onBattery: true,
  };
  const all: SchedulePatch = {
    mode: 'never',
    snoozeUntil: '2026-11-26T00:00:00Z',
    exclusiveApps: ['cs2.exe'],
    windows: [{ days: ['sun'], start: '01:00', end: '02:00' }],
  };
  it('walks down the rules as each is removed', () => {
    const steps: Array<[SchedulePatch, Partial<Signals>, string]> = [
      [all, everything, 'mode-never'],
      [{ ...all, mode: 'auto' }, everything, 'snoozed'],
      [{ ...all, mode: 'auto', snoozeUntil: null }, everything, 'too-hot'],
      [{ ...all, mode: 'auto', snoozeUntil: null }, { ...everything, gpuTemperatureC: 50 }, 'on-battery'],
      [{ ...all, mode: 'auto', snoozeUntil: null }, { ...everything, gpuTemperatureC: 50, onBattery: false }, 'exclusive-app'],
      [{ ...all, mode: 'auto', snoozeUntil: null }, { ...everything, gpuTemperatureC: 50, onBattery: false, processes: [] }, 'foreign-gpu-use'],
      [{ ...all, mode: 'auto', snoozeUntil: null }, { ...everything, gpuTemperatureC: 50, onBattery: false, processes: [], gpuProcesses: [] }, 'outside-schedule'],
      [{ ...all, mode: 'auto', snoozeUntil: null, windows: [] }, { ...everything, gpuTemperatureC: 50, onBattery: false, processes: [], gpuProcesses: [] }, 'user-active'],
    ];
    for (const [patch, signals, reason] of steps) expect(d(patch, signals).reason).toBe(reason);
  });
  it('mode always does not override exclusive apps, foreign GPU use, heat, battery or a snooze', () => {
    const always = { mode: 'always' as const, exclusiveApps: ['cs2.exe'] };
    expect(d(always, { processes: ['cs2.exe'] }).reason).toBe('exclusive-app');
    expect(d(always, { gpuProcesses: [{ name: 'blender', usedMemoryMiB: 5000 }] }).reason).toBe('foreign-gpu-use');
    expect(d(always, { gpuTemperatureC: 90 }).reason).toBe('too-hot');
    expect(d(always, { onBattery: true }).reason).toBe('on-battery');
    expect(d({ ...always, snoozeUntil: '2026-11-25T13:00:00Z' }).reason).toBe('snoozed');
  });
  it('mode never beats mode-always-like overrides and a hot GPU beats battery', () => {
    expect(d({ mode: 'never' }, { gpuTemperatureC: 99, onBattery: true }).reason).toBe('mode-never');
    expect(d({}, { gpuTemperatureC: 99, onBattery: true }).reason).toBe('too-hot');
  });
});

describe('decide: admin policy', () => {
  const policy = (mandatory: SchedulePatch, recommended: SchedulePatch = {}): LoadedPolicy => ({
    state: 'ok',
    file: '/etc/offshift/policy.json',
    mandatory: { schedule: mandatory },
    recommended: { schedule: recommended },
  });
  it('a malformed policy fails safe: nothing runs, and the detail names the file', () => {
    const r = decide(NOW, idle, { mode: 'always' }, { state: 'invalid', file: '/etc/offshift/policy.json', message: 'not valid JSON' });
    expect(r.run).toBe(false);
    expect(r.reason).toBe('policy-invalid');
    expect(r.detail).toContain('/etc/offshift/policy.json');
  });
  it('mandatory beats the user; the user beats recommended; recommended beats defaults', () => {
    expect(d({ mode: 'always' }, {}, NOW, policy({ mode: 'never' })).reason).toBe('mode-never');
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 120 }, NOW, policy({}, { idle: { minutes: 30 } })).run).toBe(true);
    expect(d({}, { idleSeconds: 120 }, NOW, policy({}, { idle: { minutes: 30 } })).reason).toBe('user-active');
    expect(d({}, { idleSeconds: 120 }, NOW, policy({ idle: { minutes: 60 } })).reason).toBe('user-active');
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 120 }, NOW, policy({ idle: { minutes: 60 } })).reason).toBe('user-active');
  });
  it('mandatory merges field by field inside an object', () => {
    // The admin fixes the minutes; the user's "idle not required" still stands.
    expect(d({ idle: { required: false } }, { idleSeconds: 0 }, NOW, policy({ idle: { minutes: 60 } })).run).toBe(true);
  });
  it('a user value that clashes with a mandatory one is set aside, the admin wins', () => {
    // user resume 80 > admin pause 70 would be invalid: the user's thermal values are dropped.
    const r = d({ thermal: { resumeBelowC: 80 } }, { gpuTemperatureC: 72 }, NOW, policy({ thermal: { pauseAtC: 70 } }));
    expect(r.reason).toBe('too-hot');
  });
});

describe('decideEffective works on merged settings directly', () => {
  it('uses the settings zone over the system zone', () => {
    const s: ScheduleSettings = { ...defaultScheduleSettings, timezone: 'Asia/Tokyo', windows: [{ days: ['wed'], start: '20:00', end: '22:00' }] };
    // 12:00Z is 21:00 in Tokyo, 12:00 in UTC.
    expect(decideEffective(NOW, { ...idle, systemTimeZone: 'UTC' }, s).run).toBe(true);
    expect(decideEffective(NOW, { ...idle, systemTimeZone: 'UTC' }, { ...s, timezone: null }).run).toBe(false);
  });
});

describe('decide: clashing layers', () => {
  it("an admin's pause temperature below the default resume temperature keeps the user's other choices", () => {
    const policy: LoadedPolicy = { state: 'ok', file: 'p.json', mandatory: { schedule: { thermal: { pauseAtC: 70 } } }, recommended: {} };
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 90, gpuTemperatureC: 65 }, NOW, policy).run).toBe(true);
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 90, gpuTemperatureC: 70 }, NOW, policy).reason).toBe('too-hot');
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 90, gpuTemperatureC: 63, pausedForHeat: true }, NOW, policy).run).toBe(false);
    expect(d({ idle: { minutes: 1 } }, { idleSeconds: 90, gpuTemperatureC: 61, pausedForHeat: true }, NOW, policy).run).toBe(true);
  });
});
