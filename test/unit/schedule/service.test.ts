import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { policyCheckItem } from '../../../runtime/policy/check-item.js';
import { silentLogger } from '../../../runtime/log.js';
import type { Decision } from '../../../runtime/schedule/schema.js';
import { createScheduleService, type ScheduleService } from '../../../runtime/schedule/service.js';
import { makeTempHome } from '../../helpers/temp-home.js';

let home: string;
let cleanup: () => void;
let policyFile: string;
let service: ScheduleService;
let decisions: Decision[];
const NOW = new Date('2026-11-25T12:00:00Z');

function make() {
  decisions = [];
  service = createScheduleService({
    home,
    env: {},
    log: silentLogger,
    policyFile,
    idle: null,
    processes: { description: 'fake', names: () => ['bash', 'cs2.exe', 'bash'], list: () => [{ pid: 1, names: ['bash'] }, { pid: 2, names: ['cs2.ex', 'cs2.exe'] }, { pid: 3, names: ['bash'] }] },
    gpu: null,
    battery: null,
    now: () => NOW,
    onDecision: (d) => decisions.push(d),
  });
  return service;
}

function expectAppError(fn: () => unknown, code: string, message?: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(code);
    if (message) expect((error as AppError).message).toMatch(message);
    return;
  }
  throw new Error(`expected AppError ${code}`);
}

beforeEach(() => {
  ({ home, cleanup } = makeTempHome());
  policyFile = path.join(home, 'policy.json');
});
afterEach(async () => {
  await service?.stop();
  cleanup();
});

describe('schedule service', () => {
  it('set merges, saves and changes the decision', () => {
    make();
    expect(service.loop.tick().run).toBe(true);
    const view = service.set({ mode: 'never' });
    expect(view.effective.mode).toBe('never');
    expect(view.user).toEqual({ mode: 'never' });
    expect(service.loop.decision?.reason).toBe('mode-never');
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).schedule).toEqual({ mode: 'never' });
  });
  it('invalid combinations are refused with the field named', () => {
    make();
    expectAppError(() => service.set({ thermal: { resumeBelowC: 90 } }), 'invalid-input', /thermal\.resumeBelowC/);
  });
  it('mandatory fields are locked: changing one is refused with locked-by-policy; sending it unchanged is fine', () => {
    fs.writeFileSync(policyFile, JSON.stringify({ mandatory: { schedule: { idle: { minutes: 15 }, mode: 'auto' } } }));
    make();
    const view = service.view();
    expect(view.locked.sort()).toEqual(['schedule.idle.minutes', 'schedule.mode']);
    expect(view.effective.idle.minutes).toBe(15);
    expectAppError(() => service.set({ idle: { minutes: 1 } }), 'locked-by-policy', /administrator/);
    expectAppError(() => service.set({ mode: 'always' }), 'locked-by-policy');
    const ok = service.set({ idle: { minutes: 15, required: false }, mode: 'auto', exclusiveApps: ['cs2.exe'] });
    expect(ok.effective.idle).toEqual({ minutes: 15, required: false });
    expect(ok.user).toEqual({ idle: { required: false }, exclusiveApps: ['cs2.exe'] }); // the locked value is not copied into the user file
  });
  it('recommended values are defaults the user may change', () => {
    fs.writeFileSync(policyFile, JSON.stringify({ recommended: { schedule: { onUserReturn: 'pause' } } }));
    make();
    expect(service.view().effective.onUserReturn).toBe('pause');
    expect(service.view().recommended).toEqual(['schedule.onUserReturn']);
    expect(service.set({ onUserReturn: 'stop' }).effective.onUserReturn).toBe('stop');
  });
  it('a malformed policy: reported in the system check, work held back, settings refused', () => {
    fs.writeFileSync(policyFile, '{ "mandatory": ');
    make();
    expect(service.loop.tick()).toMatchObject({ run: false, reason: 'policy-invalid' });
    expect(policyCheckItem(service.policy.current)).toMatchObject({ id: 'admin-policy', status: 'fail', detail: policyFile });
    expect(service.view().policy.state).toBe('invalid');
    expectAppError(() => service.set({ mode: 'never' }), 'policy-invalid');
  });
  it('pause for minutes, until a time, until resumed; resume', () => {
    make();
    expect(service.pause({ forMinutes: 60 }).effective.snoozeUntil).toBe('2026-11-25T13:00:00.000Z');
    expect(service.loop.decision).toMatchObject({ run: false, reason: 'snoozed', detail: 'Paused: snoozed until 13:00.' });
    expect(service.pause({ until: '2026-11-26T07:00:00Z' }).effective.snoozeUntil).toBe('2026-11-26T07:00:00.000Z');
    expect(service.pause({})).toMatchObject({ effective: { snoozeUntil: null, pausedUntilResumed: true } });
    expect(service.loop.decision?.detail).toBe('Paused by you until you resume.');
    expect(service.resume()).toMatchObject({ effective: { snoozeUntil: null, pausedUntilResumed: false } });
    expect(service.loop.decision?.run).toBe(true);
    expectAppError(() => service.pause({ until: '2026-11-25T11:00:00Z' }), 'invalid-input', /past/);
  });
  it('running processes for the picker: by name, counted', () => {
    make();
    expect(service.runningProcesses()).toEqual([
      { name: 'bash', count: 2 },
      { name: 'cs2.exe', count: 1 },
    ]);
  });
});
