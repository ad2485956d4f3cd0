/**
 * The Schedule page's weekly grid: 7 days × 24 hours ↔ the settings' windows. Pure.
 * A cell (day, hour) is on when the window list covers that hour's first minute, with the same
 * rules as the agent (runtime/schedule/windows.ts): a window belongs to the day it starts; an
 * end at or before its start runs past midnight; start equal to end is the whole day.
 */
import { DAYS, type Day, type ScheduleWindow } from '../../../runtime/schedule/schema.js';

export type Grid = boolean[][]; // [dayIndex 0=Mon][hour]

export const DAY_LABELS: Record<Day, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

export function emptyGrid(value = false): Grid {
  return DAYS.map(() => Array.from({ length: 24 }, () => value));
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function covers(w: ScheduleWindow, day: number, minute: number): boolean {
  const start = minutes(w.start);
  const end = minutes(w.end);
  return w.days.some((name) => {
    const d = DAYS.indexOf(name);
    if (start === end) return d === day;
    if (end > start) return d === day && minute >= start && minute < end;
    return (d === day && minute >= start) || ((d + 1) % 7 === day && minute < end);
  });
}

/** No windows means "any time": every cell on. */
export function gridFromWindows(windows: readonly ScheduleWindow[]): Grid {
  if (windows.length === 0) return emptyGrid(true);
  return DAYS.map((_, d) => Array.from({ length: 24 }, (_, h) => windows.some((w) => covers(w, d, h * 60))));
}

const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;

/**
 * The fewest plain windows for a grid: each day's runs of hours, runs with the same hours on
 * several days grouped into one window. All on → [] (any time). All off → null (nothing painted).
 */
export function windowsFromGrid(grid: Grid): ScheduleWindow[] | null {
  const all = grid.every((row) => row.every(Boolean));
  if (all) return [];
  if (grid.every((row) => row.every((c) => !c))) return null;
  const byHours = new Map<string, Day[]>();
  DAYS.forEach((day, d) => {
    const row = grid[d]!;
    let h = 0;
    while (h < 24) {
      if (!row[h]) {
        h++;
        continue;
      }
      const start = h;
      while (h < 24 && row[h]) h++;
      const key = `${hh(start)}-${hh(h)}`; // 24 → "00:00": ends at midnight; 0–24 → the whole day
      byHours.set(key, [...(byHours.get(key) ?? []), day]);
    }
  });
  return [...byHours].map(([key, days]) => {
    const [start, end] = key.split('-') as [string, string];
    return { days, start, end };
  });
}

/** The cells of a drag from one cell to another: the rectangle between them. */
export function paintRect(grid: Grid, from: { d: number; h: number }, to: { d: number; h: number }, value: boolean): Grid {
  const [d0, d1] = [Math.min(from.d, to.d), Math.max(from.d, to.d)];
  const [h0, h1] = [Math.min(from.h, to.h), Math.max(from.h, to.h)];
  return grid.map((row, d) => row.map((cell, h) => (d >= d0 && d <= d1 && h >= h0 && h <= h1 ? value : cell)));
}

export function countOn(grid: Grid): number {
  return grid.reduce((n, row) => n + row.filter(Boolean).length, 0);
}
