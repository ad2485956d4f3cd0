/**
 * Time zones and calendar dates: the one implementation the schedule and the ledger share,
 * over Luxon (IANA zones, DST aware). Pure. Instants are UTC milliseconds; dates are
 * `YYYY-MM-DD` keys. A day starts at its first instant that exists on the wall: where DST
 * begins at midnight (America/Santiago 2024-09-08, America/Havana 2024-03-10) that is 01:00.
 */
import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../errors.js';

export interface WallClock {
  y: number;
  m: number;
  d: number;
  h: number;
  min: number;
  s: number;
  /** 1 = Monday … 7 = Sunday (ISO). */
  weekday: number;
}

const zones = new Map<string, IANAZone>();

/** Whether `name` is a time zone this system knows (an IANA name such as Europe/Paris, or UTC). */
export function isTimeZone(name: string): boolean {
  return zone(name) !== null;
}

function zone(name: string): IANAZone | null {
  let z = zones.get(name);
  if (!z) {
    if (!IANAZone.isValidZone(name)) return null;
    z = IANAZone.create(name);
    zones.set(name, z);
  }
  return z;
}

/** The zone, or an `invalid-input` error that says what to use instead. */
function knownZone(name: string): IANAZone {
  const z = zone(name);
  if (!z) throw new AppError('invalid-input', `"${name}" is not a time zone this system knows (use an IANA name such as Europe/Paris).`);
  return z;
}

/** The system's zone, as Intl sees it (honours TZ); UTC when it has none. */
export function systemTimeZone(): string {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return name && isTimeZone(name) ? name : 'UTC';
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
export function offsetMs(utcMs: number, timeZone: string): number {
  return knownZone(timeZone).offset(utcMs) * 60_000;
}

/** The wall-clock fields of an instant in a zone. */
export function wallClock(utcMs: number, timeZone: string): WallClock {
  const t = DateTime.fromMillis(utcMs, { zone: knownZone(timeZone) });
  return { y: t.year, m: t.month, d: t.day, h: t.hour, min: t.minute, s: t.second, weekday: t.weekday };
}

/** Day starts already computed (`zone|y-m-d`): the ledger asks for the same days again and again. */
const dayStarts = new Map<string, number>();

/**
 * The first instant of a calendar date in a zone: local midnight, or where midnight falls in a
 * DST gap, the end of the gap (01:00). Luxon's own rule (its `fixOffset`), on the zone's
 * offsets only: a year of days costs a few milliseconds.
 */
export function startOfDay(y: number, m: number, d: number, timeZone: string): number {
  const cacheKey = `${timeZone}|${y}-${m}-${d}`;
  const cached = dayStarts.get(cacheKey);
  if (cached !== undefined) return cached;
  const z = knownZone(timeZone);
  const local = Date.UTC(y, m - 1, d);
  const check = new Date(local);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) throw new AppError('invalid-input', `${dateKey(y, m, d)} is not a date.`);
  const o = z.offset(local);
  let guess = local - o * 60_000;
  const o2 = z.offset(guess);
  let start: number;
  if (o === o2) start = guess;
  else {
    guess -= (o2 - o) * 60_000;
    const o3 = z.offset(guess);
    // Midnight in a gap: the day starts where the gap ends.
    start = o2 === o3 ? guess : local - Math.min(o2, o3) * 60_000;
  }
  if (dayStarts.size > 50_000) dayStarts.clear();
  dayStarts.set(cacheKey, start);
  return start;
}

/** `startOfDay` for a `YYYY-MM-DD` key. */
export function startOfDateKey(key: string, timeZone: string): number {
  const { y, m, d } = parseDateKey(key);
  return startOfDay(y, m, d, timeZone);
}

/** A moment's wall clock as text in a zone, with a Luxon format (`HH:mm`, `ccc HH:mm`, `yyyy-MM-dd`). */
export function formatIn(utcMs: number, timeZone: string, format: string): string {
  return DateTime.fromMillis(utcMs, { zone: knownZone(timeZone) }).toFormat(format);
}

// ── calendar dates (no zone involved) ────────────────────────────────────────

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function dateKey(y: number, m: number, d: number): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** The local date of an instant in a zone. */
export function localDateKey(utcMs: number, timeZone: string): string {
  const p = wallClock(utcMs, timeZone);
  return dateKey(p.y, p.m, p.d);
}

export function parseDateKey(key: string): { y: number; m: number; d: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  const out = match ? { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) } : null;
  if (!out || !DateTime.utc(out.y, out.m, out.d).isValid) throw new AppError('invalid-input', `"${key}" is not a date (YYYY-MM-DD).`);
  return out;
}

/** Calendar dates from `from` to `to` inclusive. */
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
