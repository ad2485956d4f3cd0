/**
 * Fault injection: the data folder's disk fills up. On a small tmpfs (needs root to mount; skipped
 * with the reason otherwise). The ledger and the settings stay intact, the error says what to do,
 * and work resumes when space returns.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorBody } from '../../../runtime/errors.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { counted } from '../../helpers/checked-voucher.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const skipReason = process.getuid?.() !== 0 ? 'mounting a small tmpfs needs root' : null;
if (skipReason) console.warn(`[disk full] skipped: ${skipReason}`);

const ctx = { chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const voucher = (n: number, amount: bigint) => ({
  voucher: {
    buyer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    provider: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    jobId: '0x' + n.toString(16).padStart(64, '0'),
    cumulativeAmount: amount.toString(),
    expiry: Math.floor(Date.now() / 1000) + 3600,
  },
  signature: '0x' + n.toString(16).padStart(130, '0'),
});

/** Fills the disk; returns the filler file. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  // The last partial chunks too.
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
  } catch {}
  fs.closeSync(fd);
  return filler;
}

describe.skipIf(skipReason !== null)('the data folder\'s disk is full', () => {
  let home: string;
  let db: Db;
  beforeAll(() => {
    home = makeTempDir('offshift-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', home]);
  });
  afterAll(() => {
    db?.close();
    try {
      execFileSync('umount', [home]);
    } catch {
      execFileSync('umount', ['-l', home]);
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('settings and ledger stay intact, the error says what to do, and work resumes when space returns', () => {
    db = openDatabase(path.join(home, DATABASE_FILE));
    const ledger = new Ledger(db);
    const settings = openSettingsStore(home);
    settings.update('schedule', { thermal: { pauseAtC: 80 } });
    for (let i = 1; i <= 20; i++) ledger.recordVoucher(counted(ctx, voucher(i, 1000n)));
    const settingsBefore = fs.readFileSync(settings.file, 'utf8');
    const totalsBefore = ledger.totals();

    const filler = fill(home);
    // A settings change: refused with what to do; the file as it was, no temp file left behind.
    let settingsError: unknown;
    try {
      settings.update('schedule', { thermal: { pauseAtC: 70 } });
    } catch (error) {
      settingsError = error;
    }
    expect(toErrorBody(settingsError)).toMatchObject({ code: 'disk-full', message: expect.stringMatching(/disk that holds Offshift's data folder is full.*free some space/) });
    expect(fs.readFileSync(settings.file, 'utf8')).toBe(settingsBefore);
    expect(fs.readdirSync(home).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(openSettingsStore(home).section('schedule').patch).toMatchObject({ thermal: { pauseAtC: 80 } });

    // Ledger writes until the database cannot grow: the error says what to do, nothing recorded is lost.
    let ledgerError: unknown;
    for (let i = 100; i < 5000 && !ledgerError; i++) {
      try {
        ledger.recordVoucher(counted(ctx, voucher(i, 1000n)));
      } catch (error) {
        ledgerError = error;
      }
    }
    expect(toErrorBody(ledgerError)).toMatchObject({ code: 'disk-full' });
    const totalsFull = ledger.totals();
    expect(BigInt(totalsFull.earned)).toBeGreaterThanOrEqual(BigInt(totalsBefore.earned));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    // Space returns: both work again, and what was there is still there.
    fs.rmSync(filler);
    settings.update('schedule', { thermal: { pauseAtC: 70 } });
    expect(openSettingsStore(home).section('schedule').patch).toMatchObject({ thermal: { pauseAtC: 70 } });
    ledger.recordVoucher(counted(ctx, voucher(9999, 5n)));
    expect(BigInt(ledger.totals().earned)).toBe(BigInt(totalsFull.earned) + 5n);
    db.close();
    db = openDatabase(path.join(home, DATABASE_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(BigInt(new Ledger(db).totals().earned)).toBe(BigInt(totalsFull.earned) + 5n);
  });
});
