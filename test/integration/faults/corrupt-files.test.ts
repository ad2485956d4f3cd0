/**
 * Fault injection: the owner's files corrupted, one at a time (settings, admin policy, wallet
 * keystore, SQLite database; the API token is part A's, test/integration/api). Each gives a clear
 * error and a safe state (no work runs on a guess), and nothing the owner had is overwritten or
 * silently reset.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, toErrorBody } from '../../../runtime/errors.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { loadPolicy } from '../../../runtime/policy/load.js';
import { decide } from '../../../runtime/schedule/decide.js';
import { createAvailabilityLoop } from '../../../runtime/schedule/loop.js';
import { emptySignals } from '../../../runtime/schedule/signals.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { createKeystore, keystorePath, readKeystore } from '../../../runtime/wallet/keystore.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { counted } from '../../helpers/checked-voucher.js';

const GARBAGE = [Buffer.from('{"schedule": {"mode": "nev'), Buffer.from([0, 0xff, 0xfe, 0x13, 0x37]), Buffer.alloc(0), Buffer.from('[]'), Buffer.from('null')];
const temps: { cleanup: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.cleanup()));
const home = () => {
  const t = makeTempHome('offshift-corrupt-');
  temps.push(t);
  return t.home;
};
const errorOf = async (fn: () => unknown): Promise<unknown> => {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return null;
};

describe('corrupt files, one at a time', () => {
  it('settings: no work runs (settings-invalid, said plainly); the file is kept as it was, and set aside (not lost) on the next save', () => {
    for (const bytes of GARBAGE.filter((b) => b.length > 0)) {
      const h = home();
      const file = path.join(h, 'settings.json');
      fs.writeFileSync(file, bytes);
      const store = openSettingsStore(h);
      const section = store.section('schedule');
      expect(section.problem).toMatch(/settings file (is not valid JSON|must hold a JSON object)/);
      // The availability loop fails safe: the owner's choices are unknown, so nothing runs.
      const loop = createAvailabilityLoop({ settings: () => store.section('schedule'), policy: () => ({ state: 'none', file: '/nonexistent' }), idle: null, processes: null, gpu: null, battery: null, jobs: null, onDecision: () => {}, timeZone: () => 'UTC' });
      expect(loop.tick()).toMatchObject({ run: false, reason: 'settings-invalid', detail: expect.stringMatching(/your settings file is invalid/) });
      expect(fs.readFileSync(file)).toEqual(bytes);
      store.update('schedule', { mode: 'never' });
      const aside = fs.readdirSync(h).filter((f) => f.startsWith('settings.json.invalid-'));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(h, aside[0]!))).toEqual(bytes);
    }
  });

  it('admin policy: no work runs (policy-invalid) until an administrator fixes it; the file is never written', () => {
    for (const bytes of GARBAGE) {
      const file = path.join(home(), 'policy.json');
      fs.writeFileSync(file, bytes);
      const policy = loadPolicy(file);
      expect(policy.state).toBe('invalid');
      const d = decide(new Date(), { ...emptySignals, idleSeconds: 3600 }, { mode: 'always' }, policy);
      expect(d).toMatchObject({ run: false, reason: 'policy-invalid' });
      expect(d.detail).toMatch(/policy file .* is invalid .* No work runs until it is fixed/);
      expect(fs.readFileSync(file)).toEqual(bytes);
    }
  });

  it('wallet keystore: a clear error naming what to do; never replaced by a new wallet', async () => {
    for (const bytes of [...GARBAGE, Buffer.from('{"address":"zz","crypto":{}}')]) {
      const h = home();
      fs.writeFileSync(keystorePath(h), bytes);
      const error = await errorOf(() => readKeystore(h));
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('keystore-corrupt');
      expect((error as AppError).message).toMatch(/left untouched.*Restore it from a backup, or move it aside and import/);
      const create = await errorOf(() => createKeystore(h, 'a long password', { scryptN: 1024 }));
      expect(create).toBeInstanceOf(AppError);
      expect(fs.readFileSync(keystorePath(h))).toEqual(bytes);
    }
  });

  it('SQLite database: garbage is refused with what to do, never replaced by a fresh database', () => {
    for (const bytes of GARBAGE.filter((b) => b.length > 0)) {
      const file = path.join(home(), DATABASE_FILE);
      fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(4096, 7)]));
      const before = fs.readFileSync(file);
      const error = (() => {
        try {
          openDatabase(file).close();
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(toErrorBody(error)).toMatchObject({ code: 'database-unreadable', message: expect.stringMatching(/may be corrupt; move it aside to start a fresh one/) });
      expect(fs.readFileSync(file)).toEqual(before);
    }
  });

  it('SQLite database damaged inside (a page overwritten): queries answer a clear error, the file is not rewritten', () => {
    const h = home();
    const file = path.join(h, DATABASE_FILE);
    const db = openDatabase(file);
    const ledger = new Ledger(db);
    const voucher = (n: number) => ({
      voucher: { buyer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', provider: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', jobId: '0x' + n.toString(16).padStart(64, '0'), cumulativeAmount: '1000', expiry: Math.floor(Date.now() / 1000) + 3600 },
      signature: '0x' + n.toString(16).padStart(130, '0'),
    });
    for (let i = 1; i <= 300; i++) ledger.recordVoucher(counted({ chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }, voucher(i)));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16) || 65536;
    // Overwrite every page after the schema page with garbage.
    for (let p = 2; p * pageSize <= bytes.length; p++) bytes.fill(0xa5, (p - 1) * pageSize + 8, p * pageSize);
    fs.writeFileSync(file, bytes);
    let error: unknown = null;
    try {
      const again = openDatabase(file);
      try {
        new Ledger(again).jobs(50, 0);
        again.prepare('SELECT count(*) FROM ledger_earnings').get();
      } finally {
        again.close();
      }
    } catch (e) {
      error = e;
    }
    expect(error).not.toBeNull();
    expect(toErrorBody(error)).toMatchObject({ code: expect.stringMatching(/database-(corrupt|unreadable)/), message: expect.stringMatching(/damaged|corrupt/) });
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });
});
