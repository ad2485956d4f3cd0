/** How long the owner's schedule still allows work from now (pure, over the schedule's own window rule). */
import { inAnyWindow } from '../schedule/windows.js';
import type { ScheduleSettings } from '../schedule/schema.js';

/**
 * Seconds until work must stop because the schedule window closes, looking ahead at most
 * `horizonS`; null when no window limits work (mode "always", or no windows). Windows are set
 * in whole minutes, so stepping minute by minute is exact.
 */
export function secondsLeftInWindow(now: Date, zone: string, s: Pick<ScheduleSettings, 'mode' | 'windows'>, horizonS: number): number | null {
  if (s.mode !== 'auto' || s.windows.length === 0) return null;
  if (!inAnyWindow(now, zone, s.windows)) return 0;
  const firstMinute = Math.ceil(now.getTime() / 60_000) * 60_000;
  for (let t = firstMinute; t - now.getTime() <= horizonS * 1000; t += 60_000) {
    if (!inAnyWindow(new Date(t), zone, s.windows)) return Math.floor((t - now.getTime()) / 1000);
  }
  return null;
}
