import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy, parsePolicy } from '../../../runtime/policy/load.js';
import { policyFilePath } from '../../../runtime/policy/paths.js';
import { watchPolicy } from '../../../runtime/policy/watcher.js';
import { effectiveSection } from '../../../runtime/settings/effective.js';
import { makeTempHome } from '../../helpers/temp-home.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ home: dir, cleanup } = makeTempHome('offshift-policy-')));
afterEach(() => cleanup());

describe('policy file path', () => {
  it('per OS, and OFFSHIFT_POLICY_FILE overrides', () => {
    expect(policyFilePath({}, 'linux')).toBe('/etc/offshift/policy.json');
    expect(policyFilePath({}, 'darwin')).toBe('/Library/Application Support/Offshift/policy.json');
    expect(policyFilePath({ ProgramData: 'D:\\PD' }, 'win32')).toBe('D:\\PD\\Offshift\\policy.json');
    expect(policyFilePath({}, 'win32')).toBe('C:\\ProgramData\\Offshift\\policy.json');
    expect(policyFilePath({ OFFSHIFT_POLICY_FILE: '/tmp/p.json' }, 'linux')).toBe('/tmp/p.json');
  });
});

describe('parsing', () => {
  it('a valid policy', () => {
    const p = parsePolicy(JSON.stringify({ description: 'Studio A', mandatory: { schedule: { idle: { minutes: 15 } } }, recommended: { schedule: { mode: 'auto' } } }), 'p.json');
    expect(p).toEqual({ state: 'ok', file: 'p.json', mandatory: { schedule: { idle: { minutes: 15 } } }, recommended: { schedule: { mode: 'auto' } } });
  });
  it('malformed in every way is invalid (fail safe), naming the field', () => {
    expect(parsePolicy('{', 'p.json')).toMatchObject({ state: 'invalid', message: expect.stringMatching(/not valid JSON/) });
    expect(parsePolicy('{"mandatory":{"schedule":{"mode":"sometimes"}}}', 'p.json')).toMatchObject({ state: 'invalid', message: expect.stringMatching(/mandatory\.schedule\.mode/) });
    expect(parsePolicy('{"mandatory":{"schedul":{}}}', 'p.json')).toMatchObject({ state: 'invalid', message: expect.stringMatching(/schedul/) });
    expect(parsePolicy('{"mandatory":{"schedule":{"idle":{"minutes":"ten"}}}}', 'p.json')).toMatchObject({ state: 'invalid', message: expect.stringMatching(/mandatory\.schedule\.idle\.minutes/) });
    expect(parsePolicy('[]', 'p.json').state).toBe('invalid');
  });
  it('a missing file is no policy; an unreadable one is invalid', () => {
    expect(loadPolicy(path.join(dir, 'nope.json')).state).toBe('none');
    const f = path.join(dir, 'dir.json');
    fs.mkdirSync(f);
    expect(loadPolicy(f).state).toBe('invalid');
  });
});

describe('merging and locking', () => {
  it('defaults ← recommended ← user ← mandatory, with locked and recommended paths', () => {
    const policy = parsePolicy(
      JSON.stringify({
        mandatory: { schedule: { idle: { minutes: 15 }, exclusiveApps: ['cs2.exe'] } },
        recommended: { schedule: { onUserReturn: 'pause', pauseOnBattery: false } },
      }),
      'p.json',
    );
    const e = effectiveSection('schedule', { idle: { minutes: 1, required: false }, exclusiveApps: ['dota2'], pauseOnBattery: true }, policy);
    expect(e.ok).toBe(true);
    if (!e.ok) return;
    expect(e.value.idle).toEqual({ minutes: 15, required: false });
    expect(e.value.exclusiveApps).toEqual(['cs2.exe']);
    expect(e.value.onUserReturn).toBe('pause'); // recommended, the user left it
    expect(e.value.pauseOnBattery).toBe(true); // the user's choice over the recommendation
    expect(e.value.thermal).toEqual({ pauseAtC: 83, resumeBelowC: 75 }); // defaults
    expect([...e.locked].sort()).toEqual(['schedule.exclusiveApps', 'schedule.idle.minutes']);
    expect([...e.recommended].sort()).toEqual(['schedule.onUserReturn', 'schedule.pauseOnBattery']);
  });
});

describe('watching', () => {
  it('re-reads the file when it is created, changed, broken and deleted', async () => {
    const file = path.join(dir, 'policy.json');
    const watcher = watchPolicy(file, { pollMs: 100, debounceMs: 20 });
    const seen: string[] = [];
    watcher.onChange((p) => seen.push(p.state));
    expect(watcher.current.state).toBe('none');
    const waitFor = async (state: string) => {
      for (let i = 0; i < 100 && watcher.current.state !== state; i++) await new Promise((r) => setTimeout(r, 20));
      expect(watcher.current.state).toBe(state);
    };
    fs.writeFileSync(file, JSON.stringify({ mandatory: { schedule: { mode: 'never' } } }));
    await waitFor('ok');
    fs.writeFileSync(file, '{ broken');
    await waitFor('invalid');
    fs.writeFileSync(file + '.tmp', JSON.stringify({ mandatory: { schedule: { mode: 'always' } } }));
    fs.renameSync(file + '.tmp', file);
    await waitFor('ok');
    expect(watcher.current).toMatchObject({ mandatory: { schedule: { mode: 'always' } } });
    fs.rmSync(file);
    await waitFor('none');
    watcher.close();
    expect(seen).toEqual(['ok', 'invalid', 'ok', 'none']);
  });
  it('a folder that does not exist yet is fine (polled)', async () => {
    const file = path.join(dir, 'later', 'policy.json');
    const watcher = watchPolicy(file, { pollMs: 50, debounceMs: 10 });
    expect(watcher.current.state).toBe('none');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '{}');
    for (let i = 0; i < 100 && watcher.current.state !== 'ok'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(watcher.current.state).toBe('ok');
    watcher.close();
  });
});
