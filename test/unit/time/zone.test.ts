import { describe, expect, it } from 'vitest';
import { addDays, dateRange, formatIn, isTimeZone, localDateKey, offsetMs, parseDateKey, startOfDateKey, startOfDay, systemTimeZone, wallClock, weekStart } from '../../../runtime/time/zone.js';
import { inAnyWindow, localTime } from '../../../runtime/schedule/windows.js';

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (key: string, zone: string) => (startOfDateKey(addDays(key, 1), zone) - startOfDateKey(key, zone)) / 3_600_000;

describe('the start of a local day', () => {
  it('where DST begins at midnight, the day starts at 01:00 (the old arithmetic said 23:00 the day before)', () => {
    // Santiago: 2024-09-08 00:00 -04 does not exist; the wall clock goes 23:59:59 → 01:00 -03.
    expect(iso(startOfDay(2024, 9, 8, 'America/Santiago'))).toBe('2024-09-08T04:00:00.000Z');
    expect(localDateKey(startOfDay(2024, 9, 8, 'America/Santiago') - 1, 'America/Santiago')).toBe('2024-09-07');
    expect(hours('2024-09-08', 'America/Santiago')).toBe(23);
    // Havana: 2024-03-10 00:00 -05 does not exist; the day starts 01:00 -04.
    expect(iso(startOfDay(2024, 3, 10, 'America/Havana'))).toBe('2024-03-10T05:00:00.000Z');
    expect(hours('2024-03-10', 'America/Havana')).toBe(23);
    // São Paulo 2018-11-04 (DST at midnight too, since abolished).
    expect(iso(startOfDateKey('2018-11-04', 'America/Sao_Paulo'))).toBe('2018-11-04T03:00:00.000Z');
  });
  it('where DST ends at midnight, the day starts at the first of the two midnights and has 25 hours', () => {
    // Santiago 2024-04-07: 00:00 -03 → back to 23:00 -04 on the 6th; the 7th starts at 00:00 -04.
    expect(iso(startOfDay(2024, 4, 7, 'America/Santiago'))).toBe('2024-04-07T04:00:00.000Z');
    expect(hours('2024-04-06', 'America/Santiago')).toBe(25);
  });
  it('DST changes in the night: 23- and 25-hour days (Paris, New York), a 30-minute change (Lord Howe)', () => {
    expect(hours('2026-03-29', 'Europe/Paris')).toBe(23);
    expect(hours('2026-10-25', 'Europe/Paris')).toBe(25);
    expect(iso(startOfDay(2026, 3, 29, 'Europe/Paris'))).toBe('2026-03-28T23:00:00.000Z');
    expect(hours('2026-03-08', 'America/New_York')).toBe(23);
    expect(hours('2026-11-01', 'America/New_York')).toBe(25);
    expect(hours('2026-04-05', 'Australia/Lord_Howe')).toBe(24.5);
    expect(hours('2026-11-23', 'Asia/Kathmandu')).toBe(24);
    expect(iso(startOfDay(2026, 11, 23, 'Asia/Kathmandu'))).toBe('2026-11-22T18:15:00.000Z');
  });
});

describe('startOfDay is the first instant of the local date', () => {
  it('every day of 2023–2025 in zones with DST at midnight, in the night, by 30 minutes, and none', () => {
    const zones = ['America/Santiago', 'America/Havana', 'America/Asuncion', 'Asia/Beirut', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];
    const wrong: string[] = [];
    for (const zone of zones) {
      for (const day of dateRange('2023-01-01', '2025-12-31')) {
        const start = startOfDay(day.y, day.m, day.d, zone);
        // The instant is on that date; the millisecond before is the day before (Havana 2023-11-05,
        // where 00:00 happens twice, starts at the first one).
        if (localDateKey(start, zone) !== day.key || localDateKey(start - 1, zone) !== addDays(day.key, -1)) wrong.push(`${zone} ${day.key} ${iso(start)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(iso(startOfDay(2023, 11, 5, 'America/Havana'))).toBe('2023-11-05T04:00:00.000Z');
  });
});

describe('instants in a zone', () => {
  it('offsets and wall clocks', () => {
    expect(offsetMs(Date.UTC(2026, 0, 1), 'Europe/Paris')).toBe(3_600_000);
    expect(offsetMs(Date.UTC(2026, 6, 1), 'Europe/Paris')).toBe(7_200_000);
    expect(offsetMs(Date.UTC(2026, 6, 1), 'Asia/Kathmandu')).toBe(20_700_000);
    expect(offsetMs(Date.UTC(2026, 6, 1), 'UTC')).toBe(0);
    expect(wallClock(Date.UTC(2024, 8, 8, 4, 0), 'America/Santiago')).toEqual({ y: 2024, m: 9, d: 8, h: 1, min: 0, s: 0, weekday: 7 });
    expect(wallClock(Date.UTC(2024, 8, 8, 3, 59, 59), 'America/Santiago')).toMatchObject({ d: 7, h: 23, min: 59, s: 59, weekday: 6 });
    expect(formatIn(Date.UTC(2026, 10, 24, 6, 5), 'Europe/Paris', 'ccc HH:mm yyyy-MM-dd')).toBe('Tue 07:05 2026-11-24');
  });
  it('refuses an unknown zone with what to use instead; knows the system zone', () => {
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('America/Santiago')).toBe(true);
    expect(() => offsetMs(0, 'Mars/Olympus')).toThrow(/not a time zone this system knows \(use an IANA name/);
    expect(() => startOfDay(2026, 1, 1, 'Mars/Olympus')).toThrow(/time zone/);
    expect(isTimeZone(systemTimeZone())).toBe(true);
  });
});

describe('calendar dates', () => {
  it('keys, ranges, weeks', () => {
    expect(parseDateKey('2024-02-29')).toEqual({ y: 2024, m: 2, d: 29 });
    expect(() => parseDateKey('2026-02-30')).toThrow(/not a date/);
    expect(() => parseDateKey('26-1-1')).toThrow(/YYYY-MM-DD/);
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(dateRange('2026-12-30', '2027-01-02').map((d) => d.key)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(weekStart('2026-11-29')).toBe('2026-11-23');
    expect(weekStart('2026-11-23')).toBe('2026-11-23');
  });
});

describe('the schedule reads the same clock', () => {
  it('a window across the Santiago DST gap keeps its wall-clock meaning', () => {
    const win = [{ days: ['sat' as const], start: '22:00', end: '02:00' }];
    // Saturday 23:30 -04 and Sunday 01:30 -03 (the hour 00:00–01:00 never happens).
    expect(inAnyWindow(new Date('2024-09-08T03:30:00Z'), 'America/Santiago', win)).toBe(true);
    expect(inAnyWindow(new Date('2024-09-08T04:30:00Z'), 'America/Santiago', win)).toBe(true);
    expect(inAnyWindow(new Date('2024-09-08T05:00:00Z'), 'America/Santiago', win)).toBe(false); // 02:00
    expect(localTime(new Date('2024-09-08T04:00:00Z'), 'America/Santiago')).toEqual({ dayIndex: 6, day: 'sun', minutes: 60 });
    expect(localTime(new Date('2024-03-10T05:00:00Z'), 'America/Havana')).toEqual({ dayIndex: 6, day: 'sun', minutes: 60 });
  });
});
