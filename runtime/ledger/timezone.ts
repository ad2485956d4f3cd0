/** Calendar arithmetic in the owner's time zone (IANA names, DST aware) with Intl only. */
import { AppError } from '../api/errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new AppError('invalid-input', `"${timeZone}" is not a time zone this system knows (use an IANA name such as Europe/Paris).`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function defaultTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Local wall-clock fields of an instant. */
export function localParts(utcMs: number, timeZone: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, min: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
export function offsetMs(utcMs: number, timeZone: string): number {
  const p = localParts(utcMs, timeZone);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The instant local midnight starts on a calendar date. */
export function localMidnightUtc(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offsetMs(guess, timeZone);
  const second = guess - offsetMs(first, timeZone);
  return second;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const dateKey = (y: number, m: number, d: number) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;

export function localDateKey(utcMs: number, timeZone: string): string {
  const p = localParts(utcMs, timeZone);
  return dateKey(p.y, p.m, p.d);
}

export function parseDateKey(key: string): { y: number; m: number; d: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!match) throw new AppError('invalid-input', `"${key}" is not a date (YYYY-MM-DD).`);
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

/** Calendar dates from `from` to `to` inclusive (plain date arithmetic, no zone involved). */
export function dateRange(from: string, to: string): { key: string; y: number; m: number; d: number }[] {
  const a = parseDateKey(from);
  const b = parseDateKey(to);
  const out: { key: string; y: number; m: number; d: number }[] = [];
  for (let t = Date.UTC(a.y, a.m - 1, a.d); t <= Date.UTC(b.y, b.m - 1, b.d); t += 86_400_000) {
    const dt = new Date(t);
    const y = dt.getUTCFullYear();
    const m = dt.getUTCMonth() + 1;
    const d = dt.getUTCDate();
    out.push({ key: dateKey(y, m, d), y, m, d });
  }
  return out;
}

export function addDays(key: string, days: number): string {
  const { y, m, d } = parseDateKey(key);
  const dt = new Date(Date.UTC(y, m - 1, d) + days * 86_400_000);
  return dateKey(dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate());
}

/** The Monday that starts the ISO week of a date. */
export function weekStart(key: string): string {
  const { y, m, d } = parseDateKey(key);
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sunday
  return addDays(key, -((dow + 6) % 7));
}
