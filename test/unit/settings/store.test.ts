import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { openSettingsStore, parseSettings } from '../../../runtime/settings/store.js';
import { deepMerge, isLocked, leafPaths } from '../../../runtime/settings/merge.js';
import { makeTempHome } from '../../helpers/temp-home.js';

let home: string;
let cleanup: () => void;
beforeEach(() => ({ home, cleanup } = makeTempHome()));
afterEach(() => cleanup());

describe('settings store', () => {
  it('starts empty, writes only what the user chose, keeps other sections, mode 0600', () => {
    fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ version: 1, wallet: { network: 'local' } }));
    const store = openSettingsStore(home);
    expect(store.section('schedule')).toEqual({ patch: undefined, problem: null });
    store.update('schedule', { idle: { minutes: 10 } });
    store.update('schedule', { idle: { required: false }, exclusiveApps: ['cs2.exe'] });
    const doc = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8'));
    expect(doc).toEqual({ version: 1, wallet: { network: 'local' }, schedule: { idle: { minutes: 10, required: false }, exclusiveApps: ['cs2.exe'] } });
    expect(fs.statSync(path.join(home, 'settings.json')).mode & 0o777).toBe(0o600);
    expect(openSettingsStore(home).section('schedule').patch).toEqual({ idle: { minutes: 10, required: false }, exclusiveApps: ['cs2.exe'] });
    expect(fs.readdirSync(home).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
  it('lists are replaced whole, not merged', () => {
    const store = openSettingsStore(home);
    store.update('schedule', { exclusiveApps: ['a', 'b'] });
    store.update('schedule', { exclusiveApps: ['c'] });
    expect(store.section('schedule').patch?.exclusiveApps).toEqual(['c']);
  });
  it('refuses invalid values, naming the field, and writes nothing', () => {
    const store = openSettingsStore(home);
    expect(() => store.update('schedule', { idle: { minutes: -1 } })).toThrow(/schedule\.idle\.minutes/);
    expect(() => store.update('schedule', { windows: [{ days: ['mon'], start: '25:00', end: '07:00' }] } as never)).toThrow(/schedule\.windows\.0\.start/);
    expect(() => store.update('schedule', { timezone: 'Mars/Olympus' })).toThrow(/schedule\.timezone/);
    try {
      store.update('schedule', { mode: 'sometimes' } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('invalid-input');
    }
    expect(fs.existsSync(path.join(home, 'settings.json'))).toBe(false);
  });
  it('a broken file is reported with the field named; saving keeps a copy of it and replaces it', () => {
    fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ schedule: { idle: { minutes: 'five' } } }));
    const store = openSettingsStore(home);
    expect(store.section('schedule').problem).toMatch(/schedule\.idle\.minutes/);
    store.update('schedule', { mode: 'never' });
    expect(store.section('schedule')).toEqual({ patch: { mode: 'never' }, problem: null });
    expect(fs.readdirSync(home).some((f) => f.startsWith('settings.json.invalid-'))).toBe(true);
  });
  it('not JSON at all', () => {
    expect(parseSettings('{ nope').sections.get('schedule')?.problem).toMatch(/not valid JSON/);
    expect(parseSettings('[1]').sections.get('schedule')?.problem).toMatch(/JSON object/);
    expect(parseSettings(null).sections.get('schedule')).toEqual({ patch: undefined, problem: null });
  });
  it('notices a change made by another process', () => {
    const store = openSettingsStore(home);
    let changes = 0;
    store.onChange(() => changes++);
    expect(store.refreshIfChanged()).toBe(false);
    fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ schedule: { mode: 'never' } }));
    expect(store.refreshIfChanged()).toBe(true);
    expect(store.section('schedule').patch).toEqual({ mode: 'never' });
    expect(changes).toBeGreaterThan(0);
  });
});

describe('merge helpers', () => {
  it('deepMerge: objects by field, lists and nulls replace, undefined never overrides', () => {
    expect(deepMerge({ a: { x: 1, y: 2 }, l: [1, 2], z: 'k' }, { a: { y: 3 }, l: [9], z: undefined }, { z: null })).toEqual({ a: { x: 1, y: 3 }, l: [9], z: null });
  });
  it('leafPaths and isLocked', () => {
    expect(leafPaths({ idle: { minutes: 5 }, windows: [], mode: 'never' })).toEqual(['idle.minutes', 'windows', 'mode']);
    expect(isLocked('schedule.idle.minutes', ['schedule.idle.minutes'])).toBe(true);
    expect(isLocked('schedule.idle', ['schedule.idle.minutes'])).toBe(true);
    expect(isLocked('schedule.idle.required', ['schedule.idle.minutes'])).toBe(false);
  });
});
