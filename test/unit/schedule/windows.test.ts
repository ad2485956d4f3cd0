import { describe, expect, it } from 'vitest';
import { decide } from '../../../runtime/schedule/decide.js';
import { DAYS, type Day, type ScheduleWindow } from '../../../runtime/schedule/schema.js';
import { emptySignals } from '../../../runtime/schedule/signals.js';
import { inAnyWindow, localTime } from '../../../runtime/schedule/windows.js';
import { noPolicy } from '../../../runtime/policy/schema.js';

const w = (days: Day[], start: string, end: string): ScheduleWindow => ({ days, start, end });
const at = (iso: string, zone: string, windows: ScheduleWindow[]) => inAnyWindow(new Date(iso), zone, windows);

describe('localTime', () => {
  it('reads weekday and wall-clock minutes in the zone', () => {
    expect(localTime(new Date('2026-11-23T00:30:00Z'), 'UTC')).toEqual({ dayIndex: 0, day: 'mon', minutes: 30 });
    expect(localTime(new Date('2026-11-23T00:30:00Z'), 'America/New_York')).toEqual({ dayIndex: 6, day: 'sun', minutes: 19 * 60 + 30 });
    expect(localTime(new Date('2026-11-22T23:30:00Z'), 'Europe/Berlin')).toEqual({ dayIndex: 0, day: 'mon', minutes: 30 });
    expect(localTime(new Date('2026-11-23T10:00:00Z'), 'Asia/Kolkata').minutes).toBe(15 * 60 + 30);
  });
  it('midnight is 0, not 24', () => {
    expect(localTime(new Date('2026-11-24T00:00:00Z'), 'UTC')).toEqual({ dayIndex: 1, day: 'tue', minutes: 0 });
  });
});

describe('windows', () => {
  it('[start, end): start is in, end is out', () => {
    const win = [w(['mon'], '09:00', '17:00')];
    expect(at('2026-11-23T08:59:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-23T09:00:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-23T16:59:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-23T17:00:00Z', 'UTC', win)).toBe(false);
  });
  it('a window wrapping midnight belongs to the day it starts: Friday 22:00–07:00 covers Friday night to Saturday 07:00', () => {
    const win = [w(['fri'], '22:00', '07:00')];
    expect(at('2026-11-27T21:59:00Z', 'UTC', win)).toBe(false); // Fri
    expect(at('2026-11-27T22:00:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-27T23:59:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-28T00:00:00Z', 'UTC', win)).toBe(true); // Sat
    expect(at('2026-11-28T06:59:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-28T07:00:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-28T22:30:00Z', 'UTC', win)).toBe(false); // Sat night is not Fri's
    expect(at('2026-11-27T03:00:00Z', 'UTC', win)).toBe(false); // Fri early morning belongs to Thu
  });
  it('Sunday night wraps into Monday', () => {
    const win = [w(['sun'], '23:00', '02:00')];
    expect(at('2026-11-29T23:30:00Z', 'UTC', win)).toBe(true); // Sun
    expect(at('2026-11-30T01:59:00Z', 'UTC', win)).toBe(true); // Mon
    expect(at('2026-11-30T02:00:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-23T01:00:00Z', 'UTC', win)).toBe(true); // the Monday a week earlier, after the Sunday before
  });
  it('start equal to end is the whole day', () => {
    const win = [w(['wed'], '00:00', '00:00')];
    expect(at('2026-11-25T00:00:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-25T23:59:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-26T00:00:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-24T23:59:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-25T13:00:00Z', 'UTC', [w(['wed'], '09:30', '09:30')])).toBe(true);
  });
  it('end at the start of the next minute after midnight: 22:00–00:00 ends at midnight', () => {
    const win = [w(['tue'], '22:00', '00:00')];
    expect(at('2026-11-24T23:59:00Z', 'UTC', win)).toBe(true);
    expect(at('2026-11-25T00:00:00Z', 'UTC', win)).toBe(false);
  });
  it('every weekday boundary: a window on one day covers exactly that day', () => {
    // Monday 2026-11-23 … Sunday 2026-11-29 (UTC).
    DAYS.forEach((day, i) => {
      const win = [w([day], '00:00', '00:00')];
      for (let j = 0; j < 7; j++) {
        const date = new Date(Date.UTC(2026, 10, 23 + j));
        expect(inAnyWindow(date, 'UTC', win), `${day} at the start of day ${j}`).toBe(i === j);
        expect(inAnyWindow(new Date(date.getTime() - 60_000), 'UTC', win), `${day} one minute before day ${j}`).toBe(i === (j + 6) % 7);
      }
    });
  });
  it('every weekday boundary for a wrapping window on each day', () => {
    DAYS.forEach((day, i) => {
      const win = [w([day], '23:00', '01:00')];
      const start = new Date(Date.UTC(2026, 10, 23 + i, 23, 0));
      expect(inAnyWindow(start, 'UTC', win)).toBe(true);
      expect(inAnyWindow(new Date(start.getTime() + 119 * 60_000), 'UTC', win)).toBe(true);
      expect(inAnyWindow(new Date(start.getTime() + 120 * 60_000), 'UTC', win)).toBe(false);
      expect(inAnyWindow(new Date(start.getTime() - 60_000), 'UTC', win)).toBe(false);
    });
  });
  it('several windows and several days', () => {
    const win = [w(['mon', 'tue', 'wed', 'thu', 'fri'], '22:00', '07:00'), w(['sat', 'sun'], '00:00', '00:00')];
    expect(at('2026-11-25T12:00:00Z', 'UTC', win)).toBe(false); // Wed noon
    expect(at('2026-11-28T12:00:00Z', 'UTC', win)).toBe(true); // Sat noon
    expect(at('2026-11-24T03:00:00Z', 'UTC', win)).toBe(true); // Tue 03:00 (from Mon)
    expect(at('2026-11-23T03:00:00Z', 'UTC', win)).toBe(false); // Mon 03:00: Sunday's whole day ended at midnight, and Sunday has no overnight window
  });
  it('the zone decides the wall clock: the same instant in two zones', () => {
    const win = [w(['mon'], '09:00', '17:00')];
    expect(at('2026-11-23T08:30:00Z', 'Europe/Berlin', win)).toBe(true); // 09:30 in Berlin
    expect(at('2026-11-23T08:30:00Z', 'UTC', win)).toBe(false);
    expect(at('2026-11-23T14:30:00Z', 'America/New_York', win)).toBe(true); // 09:30 in New York
  });
});

describe('daylight-saving changes keep wall-clock meaning', () => {
  it('Europe/Berlin spring forward (Sun 29 Mar 2026, 02:00 → 03:00): a 01:00–04:00 window is 2 real hours that night', () => {
    const win = [w(['sun'], '01:00', '04:00')];
    expect(at('2026-03-28T23:59:00Z', 'Europe/Berlin', win)).toBe(false); // 00:59 CET
    expect(at('2026-03-29T00:00:00Z', 'Europe/Berlin', win)).toBe(true); // 01:00 CET
    expect(at('2026-03-29T00:59:00Z', 'Europe/Berlin', win)).toBe(true); // 01:59 CET
    expect(at('2026-03-29T01:00:00Z', 'Europe/Berlin', win)).toBe(true); // 03:00 CEST
    expect(at('2026-03-29T01:59:00Z', 'Europe/Berlin', win)).toBe(true); // 03:59 CEST
    expect(at('2026-03-29T02:00:00Z', 'Europe/Berlin', win)).toBe(false); // 04:00 CEST
  });
  it('Europe/Berlin: 22:00 stays 22:00 on the wall on both sides of the spring change', () => {
    const win = [w(['sat', 'sun'], '22:00', '23:00')];
    expect(at('2026-03-28T21:00:00Z', 'Europe/Berlin', win)).toBe(true); // Sat 22:00 CET = 21:00Z
    expect(at('2026-03-29T20:00:00Z', 'Europe/Berlin', win)).toBe(true); // Sun 22:00 CEST = 20:00Z
    expect(at('2026-03-29T21:00:00Z', 'Europe/Berlin', win)).toBe(false); // Sun 23:00 CEST
  });
  it('Europe/Berlin fall back (Sun 25 Oct 2026, 03:00 → 02:00): 02:00–03:00 happens twice and both count', () => {
    const win = [w(['sun'], '02:00', '03:00')];
    expect(at('2026-10-25T00:00:00Z', 'Europe/Berlin', win)).toBe(true); // 02:00 CEST
    expect(at('2026-10-25T00:59:00Z', 'Europe/Berlin', win)).toBe(true); // 02:59 CEST
    expect(at('2026-10-25T01:00:00Z', 'Europe/Berlin', win)).toBe(true); // 02:00 CET (again)
    expect(at('2026-10-25T01:59:00Z', 'Europe/Berlin', win)).toBe(true); // 02:59 CET
    expect(at('2026-10-25T02:00:00Z', 'Europe/Berlin', win)).toBe(false); // 03:00 CET
    expect(at('2026-10-24T23:59:00Z', 'Europe/Berlin', win)).toBe(false); // 01:59 CEST
  });
  it('America/New_York spring forward (Sun 8 Mar 2026) and fall back (Sun 1 Nov 2026) with an overnight window', () => {
    const win = [w(['sat'], '22:00', '07:00')];
    // Spring: Sat 22:00 EST = 03:00Z; Sun 07:00 EDT = 11:00Z.
    expect(at('2026-03-08T02:59:00Z', 'America/New_York', win)).toBe(false);
    expect(at('2026-03-08T03:00:00Z', 'America/New_York', win)).toBe(true);
    expect(at('2026-03-08T10:59:00Z', 'America/New_York', win)).toBe(true);
    expect(at('2026-03-08T11:00:00Z', 'America/New_York', win)).toBe(false);
    // Fall: Sat 22:00 EDT = 02:00Z; Sun 07:00 EST = 12:00Z.
    expect(at('2026-11-01T01:59:00Z', 'America/New_York', win)).toBe(false);
    expect(at('2026-11-01T02:00:00Z', 'America/New_York', win)).toBe(true);
    expect(at('2026-11-01T11:59:00Z', 'America/New_York', win)).toBe(true);
    expect(at('2026-11-01T12:00:00Z', 'America/New_York', win)).toBe(false);
  });
  it('through decide, with the settings zone', () => {
    const signals = { ...emptySignals, idleSeconds: 9999, systemTimeZone: 'UTC' };
    const settings = { timezone: 'America/New_York', windows: [w(['sat'], '22:00', '07:00')] };
    expect(decide(new Date('2026-11-01T11:59:00Z'), signals, settings, noPolicy).run).toBe(true);
    expect(decide(new Date('2026-11-01T12:00:00Z'), signals, settings, noPolicy)).toMatchObject({ run: false, reason: 'outside-schedule' });
  });
});
