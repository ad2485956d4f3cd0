/**
 * Weekly windows in wall-clock time. Pure. A window belongs to the day it starts on; an end at
 * or before its start runs past midnight into the next day; start equal to end is the whole day;
 * a moment is in a window when its local time is in [start, end). Local time is read from the
 * instant in the window's IANA zone, so across daylight-saving changes windows keep their
 * wall-clock meaning (a 22:00 start is 22:00 on the wall, whatever the UTC offset that night).
 * Zone arithmetic: runtime/time/zone.ts (shared with the ledger).
 */
import { wallClock } from '../time/zone.js';
import { DAYS, type Day, type ScheduleWindow } from './schema.js';

export interface LocalTime {
  /** 0 = Monday … 6 = Sunday. */
  dayIndex: number;
  day: Day;
  /** Minutes since local midnight, 0–1439. */
  minutes: number;
}

/** The wall-clock weekday and time of `now` in `zone`. Throws for an unknown zone. */
export function localTime(now: Date, zone: string): LocalTime {
  const t = wallClock(now.getTime(), zone);
  const dayIndex = t.weekday - 1;
  return { dayIndex, day: DAYS[dayIndex]!, minutes: t.h * 60 + t.min };
}

export function parseClock(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether a local moment falls in one window. */
export function inWindow(local: LocalTime, window: ScheduleWindow): boolean {
  const start = parseClock(window.start);
  const end = parseClock(window.end);
  for (const day of window.days) {
    const d = DAYS.indexOf(day);
    if (start === end) {
      if (local.dayIndex === d) return true;
    } else if (end > start) {
      if (local.dayIndex === d && local.minutes >= start && local.minutes < end) return true;
    } else {
      if (local.dayIndex === d && local.minutes >= start) return true;
      if (local.dayIndex === (d + 1) % 7 && local.minutes < end) return true;
    }
  }
  return false;
}

export function inAnyWindow(now: Date, zone: string, windows: readonly ScheduleWindow[]): boolean {
  const local = localTime(now, zone);
  return windows.some((w) => inWindow(local, w));
}

/** The system's zone, as Intl sees it (honours TZ). */
export { systemTimeZone } from '../time/zone.js';
