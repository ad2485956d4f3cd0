/**
 * The availability decision: may work run now, and why. Pure: the same inputs give the same
 * answer, so every rule and its precedence is unit-tested directly. The first rule that applies
 * gives the reason:
 *
 *  0. the admin policy is malformed, or the settings are → `policy-invalid` / `settings-invalid` (fail safe);
 *     the admin policy's `pauseUntil` in the future → `admin-pause`
 *  1. mode `never` → `mode-never`
 *  2. snoozed (snoozeUntil in the future, or paused until resumed) → `snoozed`
 *  3. GPU temperature ≥ pauseAtC, or paused for heat and not yet below resumeBelowC, or a GPU's
 *     temperature unknown for want of a fresh reading (fails safe) → `too-hot`
 *  4. on battery and pauseOnBattery → `on-battery`
 *  5. a running process matches exclusiveApps → `exclusive-app`
 *  6. a non-Offshift process holds ≥ foreignGpuMinMiB of GPU memory (compositors never count),
 *     and pauseOnForeignGpuUse → `foreign-gpu-use`
 *  7. mode `always` → run, `mode-always`
 *  8. windows not empty and now in none of them → `outside-schedule`
 *  9. idle required and input idle time < idle.minutes → `user-active`
 * 10. otherwise → run, `ok`
 */
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection } from '../settings/effective.js';
import { findExclusiveApp, isCompositor } from './process-match.js';
import type { Decision, ScheduleSettings, SchedulePatch } from './schema.js';
import type { Signals } from './signals.js';
import { formatIn } from '../time/zone.js';
import { inAnyWindow } from './windows.js';

export const NO_IDLE_SOURCE_NOTE = 'no idle source: schedule only';

export function decide(now: Date, signals: Signals, settings: SchedulePatch | undefined, policy: LoadedPolicy): Decision {
  if (policy.state === 'invalid') {
    return {
      run: false,
      reason: 'policy-invalid',
      detail: `Paused: the administrator's policy file ${policy.file} is invalid (${policy.message}). No work runs until it is fixed.`,
    };
  }
  const paused = adminPause(now, policy);
  if (paused) return paused;
  const effective = effectiveSection('schedule', settings, policy);
  if (!effective.ok) {
    return { run: false, reason: 'settings-invalid', detail: `Paused: the availability settings are invalid (${effective.message}).` };
  }
  return decideEffective(now, signals, effective.value);
}

/** "Pause the whole room now": the admin policy's pauseUntil outranks every setting, the user's included. */
export function adminPause(now: Date, policy: LoadedPolicy): Decision | null {
  if (policy.state !== 'ok' || policy.pauseUntil === undefined) return null;
  const until = new Date(policy.pauseUntil);
  if (until.getTime() <= now.getTime()) return null;
  return { run: false, reason: 'admin-pause', detail: `Paused by your administrator's policy until ${until.toISOString()}.` };
}

/** The rules 1–10 over already-merged, valid settings. */
export function decideEffective(now: Date, signals: Signals, s: ScheduleSettings): Decision {
  const zone = s.timezone ?? signals.systemTimeZone;

  if (s.mode === 'never') return { run: false, reason: 'mode-never', detail: 'Paused: Offshift is set to never run work.' };

  if (s.pausedUntilResumed) return { run: false, reason: 'snoozed', detail: 'Paused by you until you resume.' };
  if (s.snoozeUntil !== null) {
    const until = new Date(s.snoozeUntil);
    if (until.getTime() > now.getTime()) {
      return { run: false, reason: 'snoozed', detail: `Paused: snoozed until ${formatMoment(until, now, zone)}.` };
    }
  }

  const t = signals.gpuTemperatureC;
  const { pauseAtC, resumeBelowC } = s.thermal;
  // Details stay the same while the reason holds, so the state does not churn with each degree.
  if ((t !== null && t >= pauseAtC) || (signals.pausedForHeat && (t === null || t >= resumeBelowC))) {
    return { run: false, reason: 'too-hot', detail: `Paused: the GPU is too hot (pauses at ${pauseAtC} °C, resumes below ${resumeBelowC} °C).` };
  }
  // Heat protection fails safe: without a fresh temperature, no work (a frozen reading is not one).
  if (signals.gpuTemperatureUnknown) {
    return { run: false, reason: 'too-hot', detail: `Paused: the GPU temperature is unknown (${signals.gpuTemperatureUnknown}); work resumes once it is read again.` };
  }

  if (signals.onBattery === true && s.pauseOnBattery) {
    return { run: false, reason: 'on-battery', detail: 'Paused: the computer is running on battery.' };
  }

  const app = findExclusiveApp(signals.processes, s.exclusiveApps);
  if (app) return { run: false, reason: 'exclusive-app', detail: `Paused: ${app.process} is running.` };

  if (s.pauseOnForeignGpuUse) {
    for (const p of signals.gpuProcesses) {
      if (p.ownJob || isCompositor(p.name) || p.usedMemoryMiB === null) continue;
      if (p.usedMemoryMiB >= s.foreignGpuMinMiB) {
        const name = p.name.split(/[\\/]/).pop() || p.name;
        return { run: false, reason: 'foreign-gpu-use', detail: `Paused: ${name} is using the GPU (${round(p.usedMemoryMiB)} MiB).` };
      }
    }
  }

  if (s.mode === 'always') return { run: true, reason: 'mode-always', detail: 'Available: set to always run.' };

  if (s.windows.length > 0 && !inAnyWindow(now, zone, s.windows)) {
    return { run: false, reason: 'outside-schedule', detail: 'Paused: outside your schedule.' };
  }

  if (s.idle.required && signals.idleSeconds !== null && signals.idleSeconds < s.idle.minutes * 60) {
    return { run: false, reason: 'user-active', detail: `Paused: you are using the computer (resumes after ${plural(s.idle.minutes, 'minute')} idle).` };
  }

  if (s.idle.required && signals.idleSeconds === null) return { run: true, reason: 'ok', detail: `Available: ${NO_IDLE_SOURCE_NOTE}.` };
  return { run: true, reason: 'ok', detail: 'Available: waiting for work.' };
}

/**
 * The heat latch for the next tick: set at pauseAtC, cleared below resumeBelowC, kept in
 * between (hysteresis, so the GPU does not flap around one temperature). Unknown keeps it.
 */
export function nextHeatLatch(latched: boolean, temperatureC: number | null, thermal: { pauseAtC: number; resumeBelowC: number }): boolean {
  if (temperatureC === null) return latched;
  if (temperatureC >= thermal.pauseAtC) return true;
  if (temperatureC < thermal.resumeBelowC) return false;
  return latched;
}

function round(n: number): number {
  return Math.round(n);
}


function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "18:30" today, "Tue 07:00" within a week, else the date. In the schedule's zone. */
function formatMoment(at: Date, now: Date, zone: string): string {
  const time = formatIn(at.getTime(), zone, 'HH:mm');
  const day = (d: Date) => formatIn(d.getTime(), zone, 'yyyy-MM-dd');
  if (day(at) === day(now)) return time;
  if (at.getTime() - now.getTime() < 6 * 24 * 3600_000) return `${formatIn(at.getTime(), zone, 'ccc')} ${time}`;
  return `${day(at)} ${time}`;
}
