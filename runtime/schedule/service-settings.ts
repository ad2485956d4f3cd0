/**
 * The schedule as the owner sees and changes it: the view (effective settings, locks, notes), a
 * change checked against the admin policy's locks, and pause/resume as changes.
 */
import { AppError } from '../errors.js';
import type { PolicyFollower } from '../policy/follow.js';
import { describePolicy } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection } from '../settings/effective.js';
import { describeIssues } from '../settings/issues.js';
import { deepMerge, isLocked, leafPaths } from '../settings/merge.js';
import { settingsSections } from '../settings/sections.js';
import type { SettingsStore } from '../settings/store.js';
import type { AvailabilityLoop } from './loop.js';
import type { PolicyStatus, SchedulePatch, ScheduleView } from './schema.js';

/** What the view and a change need: the settings file, the policy, the loop, the system's zone. */
export interface ScheduleSettingsContext {
  settings: SettingsStore;
  policy: PolicyFollower;
  loop: AvailabilityLoop;
  systemZone: () => string;
}

export function policyStatus(policy: LoadedPolicy): PolicyStatus {
  return { state: policy.state, file: policy.file, message: describePolicy(policy) };
}

export function scheduleView({ settings, policy, loop, systemZone }: ScheduleSettingsContext): ScheduleView {
  const user = settings.section('schedule');
  const current = policy.current;
  const e = effectiveSection('schedule', user.patch, current);
  const notes = [...loop.notes()];
  if (user.problem) notes.push(`Your settings file ${settings.file} is invalid (${user.problem}); saving replaces it (the old one is kept beside it).`);
  if (current.state === 'invalid') notes.push(describePolicy(current));
  if (!e.ok) notes.push(`The effective settings are invalid: ${e.message}`);
  const effective = e.ok ? e.value : settingsSections.schedule.defaults;
  return {
    effective,
    locked: e.locked,
    recommended: e.recommended,
    user: user.patch ?? {},
    policy: policyStatus(current),
    decision: loop.decision,
    notes,
    timezone: effective.timezone ?? systemZone(),
  };
}

function checkLocks({ settings, policy }: ScheduleSettingsContext, patch: SchedulePatch): void {
  const current = policy.current;
  if (current.state === 'invalid') {
    throw new AppError('policy-invalid', `${describePolicy(current)} Settings cannot be changed until then.`);
  }
  const e = effectiveSection('schedule', settings.section('schedule').patch, current);
  const effective = e.ok ? (e.value as unknown as Record<string, unknown>) : {};
  for (const path of leafPaths(patch)) {
    if (!isLocked(`schedule.${path}`, e.locked)) continue;
    // Sending the locked value unchanged (a form saved whole) is fine; changing it is not.
    const sent = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], patch);
    const has = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], effective);
    if (JSON.stringify(sent) === JSON.stringify(has)) continue;
    throw new AppError(
      'locked-by-policy',
      `schedule.${path} is set by your administrator (${current.file}) and cannot be changed here. Ask your administrator to change the policy.`,
    );
  }
}

/** Drops leaves that equal a locked value, so the user file never shadows the admin's. */
function withoutLocked(policy: PolicyFollower, patch: SchedulePatch): SchedulePatch {
  const locked = effectiveSection('schedule', undefined, policy.current).locked;
  if (locked.length === 0) return patch;
  const out = structuredClone(patch) as Record<string, unknown>;
  for (const path of leafPaths(patch)) {
    if (!isLocked(`schedule.${path}`, locked)) continue;
    const keys = path.split('.');
    let o: Record<string, unknown> | undefined = out;
    for (const k of keys.slice(0, -1)) o = o?.[k] as Record<string, unknown> | undefined;
    if (o) delete o[keys[keys.length - 1]!];
  }
  return out as SchedulePatch;
}

/** Saves a change (refused when it touches a locked value or leaves the settings invalid); the loop decides again. */
export function setSchedule(c: ScheduleSettingsContext, patch: SchedulePatch): ScheduleView {
  const { settings, policy, loop } = c;
  checkLocks(c, patch);
  settings.update('schedule', withoutLocked(policy, patch), (next) => {
    const e = effectiveSection('schedule', next, policy.current);
    if (!e.ok) throw new AppError('invalid-input', `Invalid settings: ${e.message}.`);
    if (!e.userApplied) {
      const current = policy.current;
      const mandatory = current.state === 'ok' ? current.mandatory.schedule : undefined;
      const why = settingsSections.schedule.full.safeParse(deepMerge(settingsSections.schedule.defaults, next, mandatory));
      throw new AppError('invalid-input', `Invalid settings: these values clash with your administrator's${why.success ? '' : ` (${describeIssues(why.error, 'schedule')})`}.`);
    }
  });
  loop.invalidate();
  return scheduleView(c);
}

/** A pause for some minutes, until a time, or until resumed, as the change it makes. */
export function pausePatch({ forMinutes, until }: { forMinutes?: number; until?: string }, now: () => Date): SchedulePatch {
  if (forMinutes !== undefined && until !== undefined) throw new AppError('invalid-input', 'Give a duration or an end time, not both.');
  if (until !== undefined) {
    const at = new Date(until);
    if (Number.isNaN(at.getTime())) throw new AppError('invalid-input', `"${until}" is not a date and time (ISO 8601, e.g. 2026-11-23T18:00:00Z).`);
    if (at.getTime() <= now().getTime()) throw new AppError('invalid-input', `${until} is already past: give a time in the future.`);
    return { snoozeUntil: at.toISOString(), pausedUntilResumed: false };
  }
  if (forMinutes !== undefined) return { snoozeUntil: new Date(now().getTime() + forMinutes * 60_000).toISOString(), pausedUntilResumed: false };
  return { snoozeUntil: null, pausedUntilResumed: true };
}
