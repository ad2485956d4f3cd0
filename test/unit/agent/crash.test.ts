import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CRASH_EXIT_CODE, CRASH_FILE, crashRecord, installCrashHandler, REPORTED_CRASH_FILE, scrubSecrets, takeCrashRecord } from '../../../runtime/agent/crash.js';
import { silentLogger, type Logger } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const TOKEN = 'ab'.repeat(32);
const KEY = '0x' + '4c'.repeat(32);
const MNEMONIC = 'test test test test test test test test test test test junk';

const temps: { cleanup: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.cleanup()));
function home(): string {
  const t = makeTempHome('offshift-crash-');
  temps.push(t);
  return t.home;
}

describe('crash records (pure)', () => {
  it('mask tokens, private keys and mnemonics, and cap the length', () => {
    const text = scrubSecrets(`token ${TOKEN} key ${KEY} words: ${MNEMONIC}. The end`);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(KEY.slice(2));
    expect(text).not.toContain('test junk');
    expect(text).toContain('The end');
    expect(scrubSecrets('x'.repeat(100_000)).length).toBeLessThanOrEqual(4001);
  });
  it('record an Error, a thrown string and an object that cannot be serialized', () => {
    const r = crashRecord('uncaughtException', new TypeError(`bad ${TOKEN}`), new Date(0), 42, '1.2.3');
    expect(r).toMatchObject({ at: '1970-01-01T00:00:00.000Z', kind: 'uncaughtException', name: 'TypeError', message: 'bad [redacted]', pid: 42, version: '1.2.3' });
    expect(r.stack).toContain('TypeError');
    expect(crashRecord('unhandledRejection', 'plain', new Date(0), 1, 'v').message).toBe('plain');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(crashRecord('unhandledRejection', cyclic, new Date(0), 1, 'v').message).toBe('[object Object]');
  });
});

describe('the last-resort handler', () => {
  it('logs without secrets, writes the record and exits non-zero, once', () => {
    const h = home();
    const proc = Object.assign(new EventEmitter(), { pid: 7 });
    const exits: number[] = [];
    const lines: string[] = [];
    const log: Logger = { ...silentLogger, error: (m, f) => lines.push(m + JSON.stringify(f)) };
    const remove = installCrashHandler({ home: h, log, version: 'v', exit: (c) => exits.push(c), proc: proc as never });
    proc.emit('unhandledRejection', new Error(`rejected with ${TOKEN}`));
    proc.emit('uncaughtException', new Error('a second one while exiting'));
    expect(exits).toEqual([CRASH_EXIT_CODE]);
    expect(lines.join('')).not.toContain(TOKEN);
    const record = JSON.parse(fs.readFileSync(path.join(h, CRASH_FILE), 'utf8'));
    expect(record).toMatchObject({ kind: 'unhandledRejection', message: 'rejected with [redacted]', pid: 7 });
    remove();
    expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0);
  });
  it('the next start reports the record once, and a corrupt one as unreadable', () => {
    const h = home();
    expect(takeCrashRecord(h, silentLogger)).toBeNull();
    fs.writeFileSync(path.join(h, CRASH_FILE), JSON.stringify(crashRecord('uncaughtException', new Error('boom'), new Date(5), 1, 'v')));
    const warned: string[] = [];
    expect(takeCrashRecord(h, { ...silentLogger, warn: (m) => warned.push(m) })).toMatchObject({ message: 'boom' });
    expect(warned).toHaveLength(1);
    expect(fs.existsSync(path.join(h, REPORTED_CRASH_FILE))).toBe(true);
    expect(takeCrashRecord(h, silentLogger)).toBeNull();
    fs.writeFileSync(path.join(h, CRASH_FILE), '{garbage');
    expect(takeCrashRecord(h, silentLogger)).toMatchObject({ message: 'The crash record could not be read.' });
  });
});
