import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../../runtime/ledger/classify.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { startOfDay as localMidnightUtc } from '../../../runtime/time/zone.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { counted } from '../../helpers/checked-voucher.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const ctx = { chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const buyer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const provider = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const job = (n: number) => '0x' + n.toString(16).padStart(64, '0');
const sig = (n: number) => '0x' + n.toString(16).padStart(130, '0');
const E18 = 10n ** 18n;

describe('ledger', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let db: Db;
  let now = Date.UTC(2026, 10, 23, 12, 0, 0);
  let ledger: Ledger;
  const voucher = (n: number, amount: bigint, expiry = Math.floor(now / 1000) + 3600, s = n) => ({
    voucher: { buyer, provider, jobId: job(n), cumulativeAmount: amount.toString(), expiry },
    signature: sig(s),
  });
  const redemption = (n: number, amount: bigint, cumulative: bigint, tx: number, blockTime = now) => ({
    ...ctx,
    txHash: '0x' + tx.toString(16).padStart(64, '0'),
    logIndex: 0,
    blockNumber: tx,
    blockTime,
    buyer,
    provider,
    jobId: job(n),
    amount,
    cumulative,
  });

  beforeEach(() => {
    temp = makeTempHome();
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
    now = Date.UTC(2026, 10, 23, 12, 0, 0);
    ledger = new Ledger(db, () => now);
  });
  afterEach(() => {
    db.close();
    temp.cleanup();
  });

  it('classifies a job by what is owed, vouched and paid', () => {
    expect(classify({ owed: 5n, vouched: 0n, paid: 0n, expiry: null }, 0)).toMatchObject({ status: 'pending', parts: { pending: 5n, earned: 5n } });
    expect(classify({ owed: 5n, vouched: 3n, paid: 1n, expiry: 100 }, 50)).toMatchObject({ status: 'redeemable', parts: { pending: 2n, redeemable: 2n, redeemed: 1n, earned: 5n } });
    expect(classify({ owed: 0n, vouched: 3n, paid: 3n, expiry: 100 }, 500)).toMatchObject({ status: 'redeemed', parts: { redeemed: 3n, earned: 3n } });
    expect(classify({ owed: 0n, vouched: 3n, paid: 1n, expiry: 100 }, 500)).toMatchObject({ status: 'expired', parts: { expired: 2n, redeemed: 1n, earned: 1n } });
  });

  it('a voucher is stored once; a redemption moves it to redeemed; totals are exact beyond 2^63', () => {
    const big = 123_456_789n * E18 + 987_654_321n; // far beyond 2^63 base units
    const a = ledger.recordVoucher(counted(ctx, voucher(1, big)));
    const again = ledger.recordVoucher(counted(ctx, voucher(1, big)));
    expect(again.id).toBe(a.id);
    ledger.recordVoucher(counted(ctx, voucher(2, 7n)));
    expect(ledger.totals()).toMatchObject({ redeemable: (big + 7n).toString(), redeemed: '0', earned: (big + 7n).toString(), jobs: 2 });

    expect(ledger.recordRedemption(redemption(1, big, big, 10))).toBe(true);
    expect(ledger.recordRedemption(redemption(1, big, big, 10))).toBe(false);
    expect(ledger.voucher(a.id)).toMatchObject({ status: 'redeemed', redeemBlock: 10 });
    expect(ledger.totals()).toMatchObject({ redeemable: '7', redeemed: big.toString(), earned: (big + 7n).toString() });
  });

  it('a higher voucher supersedes a lower one; one payment of the higher redeems both', () => {
    const low = ledger.recordVoucher(counted(ctx, voucher(3, 2n * E18)));
    const high = ledger.recordVoucher(counted(ctx, voucher(3, 5n * E18, undefined, 99)));
    expect(ledger.totals().redeemable).toBe((5n * E18).toString());
    ledger.recordRedemption(redemption(3, 5n * E18, 5n * E18, 11));
    expect(ledger.voucher(low.id)!.status).toBe('redeemed');
    expect(ledger.voucher(high.id)!.status).toBe('redeemed');
    expect(ledger.totals()).toMatchObject({ redeemed: (5n * E18).toString(), redeemable: '0', jobs: 1 });
  });

  it('vouchers that pass their expiry unredeemed become expired', () => {
    const v = ledger.recordVoucher(counted(ctx, voucher(4, 9n, Math.floor(now / 1000) + 60)));
    now += 120_000;
    expect(ledger.expireDue()).toBe(1);
    expect(ledger.voucher(v.id)!.status).toBe('expired');
    expect(ledger.totals()).toMatchObject({ redeemable: '0', expired: '9', earned: '0' });
  });

  it('usage reports are pending until a voucher covers them', () => {
    ledger.recordUsageReport({ ...ctx, buyer, provider }, { marketJobId: job(5), amount: 10n });
    expect(ledger.totals()).toMatchObject({ pending: '10', earned: '10' });
    ledger.recordVoucher(counted(ctx, voucher(5, 6n)));
    expect(ledger.totals()).toMatchObject({ pending: '4', redeemable: '6', earned: '10' });
  });

  it('earnings by day follow the time zone, and weeks and months add up', () => {
    // Two jobs 30 minutes apart around midnight in Tokyo (UTC+9): 23:45 and 00:15 local.
    const t1 = Date.UTC(2026, 10, 20, 14, 45);
    const t2 = Date.UTC(2026, 10, 20, 15, 15);
    ledger.recordVoucher(counted(ctx, voucher(6, 100n)), t1);
    ledger.recordVoucher(counted(ctx, voucher(7, 200n)), t2);
    expect(ledger.series('day', '2026-11-20', '2026-11-22', 'Asia/Tokyo')).toEqual([
      { period: '2026-11-20', earned: '100', redeemed: '0', jobs: 1 },
      { period: '2026-11-21', earned: '200', redeemed: '0', jobs: 1 },
      { period: '2026-11-22', earned: '0', redeemed: '0', jobs: 0 },
    ]);
    const utc = ledger.series('day', '2026-11-20', '2026-11-21', 'UTC');
    expect(utc.map((p) => p.earned)).toEqual(['300', '0']);
    // Kathmandu is UTC+5:45: 14:45 UTC is 20:30 local, 15:15 is 21:00: both on the 20th.
    expect(ledger.series('day', '2026-11-20', '2026-11-20', 'Asia/Kathmandu')[0]!.earned).toBe('300');
    expect(ledger.series('week', '2026-11-16', '2026-11-29', 'UTC')).toEqual([
      { period: '2026-11-16', earned: '300', redeemed: '0', jobs: 2 },
      { period: '2026-11-23', earned: '0', redeemed: '0', jobs: 0 },
    ]);
    expect(ledger.series('month', '2026-11-01', '2026-12-31', 'UTC').map((p) => [p.period, p.earned])).toEqual([
      ['2026-11', '300'],
      ['2026-12', '0'],
    ]);
    expect(() => ledger.series('day', '2026-11-22', '2026-11-20', 'UTC')).toThrow(/starts/);
    expect(() => ledger.series('day', '2026-11-20', '2026-11-22', 'Mars/Olympus')).toThrow(/time zone/);
  });

  it('where DST begins at midnight, the day starts at 01:00 local: earnings just before it stay on the day before', () => {
    // Santiago, 2024-09-07 23:30 (UTC-4) and 2024-09-08 01:30 (UTC-3, the clocks jumped 00:00 → 01:00).
    ledger.recordVoucher(counted(ctx, voucher(20, 100n)), Date.UTC(2024, 8, 8, 3, 30));
    ledger.recordVoucher(counted(ctx, voucher(21, 200n)), Date.UTC(2024, 8, 8, 4, 30));
    expect(ledger.series('day', '2024-09-07', '2024-09-08', 'America/Santiago').map((p) => [p.period, p.earned])).toEqual([
      ['2024-09-07', '100'],
      ['2024-09-08', '200'],
    ]);
    // Havana, 2024-03-09 23:15 (UTC-5) and 2024-03-10 01:15 (UTC-4).
    ledger.recordVoucher(counted(ctx, voucher(22, 5n)), Date.UTC(2024, 2, 10, 4, 15));
    ledger.recordVoucher(counted(ctx, voucher(23, 7n)), Date.UTC(2024, 2, 10, 5, 15));
    expect(ledger.series('day', '2024-03-09', '2024-03-10', 'America/Havana').map((p) => p.earned)).toEqual(['5', '7']);
  });

  it('a day across a DST change has 23 or 25 hours', () => {
    const start = localMidnightUtc(2026, 3, 29, 'Europe/Paris');
    const end = localMidnightUtc(2026, 3, 30, 'Europe/Paris');
    expect((end - start) / 3_600_000).toBe(23);
  });

  it('links jobs of the runner: GPUs, duration, per-GPU shares that add up, and the CSV', () => {
    const insertJob = db.prepare(
      "INSERT INTO jobs (id, market_job_id, spec, state, reason, state_changed_at, created_at, started_at, ended_at) VALUES (?, ?, '{}', 'succeeded', 'done', ?, ?, ?, ?)",
    );
    const start = Date.UTC(2026, 10, 22, 10, 0);
    insertJob.run('local-1', job(8), start, start, start, start + 3_600_000);
    db.prepare('INSERT INTO job_gpus (job_id, gpu_key) VALUES (?, ?), (?, ?)').run('local-1', 'gpu-a', 'local-1', 'gpu-b');
    ledger.recordVoucher(counted(ctx, voucher(8, 10n * E18 + 1n)));
    ledger.recordVoucher(counted(ctx, voucher(9, 3n)));
    ledger.recordRedemption(redemption(8, 10n * E18 + 1n, 10n * E18 + 1n, 12));

    expect(ledger.byGpu()).toEqual([
      { gpuKey: 'gpu-a', earned: (5n * E18 + 1n).toString(), jobs: 1 },
      { gpuKey: 'gpu-b', earned: (5n * E18).toString(), jobs: 1 },
      { gpuKey: 'unassigned', earned: '3', jobs: 1 },
    ]);
    const { jobs, total } = ledger.jobs();
    expect(total).toBe(2);
    const local = jobs.find((j) => j.jobId === 'local-1')!;
    expect(local).toMatchObject({ gpus: ['gpu-a', 'gpu-b'], durationMs: 3_600_000, status: 'redeemed', at: start + 3_600_000 });

    const { csv, rows } = ledger.exportCsv({ timeZone: 'Europe/Paris', decimals: 18, symbol: 'OFT' });
    expect(rows).toBe(2);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('date,job_id,local_job_id,gpus,duration_s,amount,token,status,redeem_tx,paid_to');
    expect(lines[1]).toBe(`2026-11-22T12:00:00+01:00,${job(8)},local-1,gpu-a;gpu-b,3600,10.000000000000000001,OFT,redeemed,0x${(12).toString(16).padStart(64, '0')},`);
    expect(lines[2]).toMatch(/^2026-11-23T13:00:00\+01:00,0x0+9,,,,0\.000000000000000003,OFT,redeemable,,$/);
  });

  it('amounts far beyond 2^53 stay exact in the job table and the CSV', () => {
    const huge = 10n ** 30n + 1n; // 1e12 tokens and one base unit
    ledger.recordVoucher(counted(ctx, voucher(50, huge)));
    expect(ledger.jobs().jobs[0]!.earned).toBe(huge.toString());
    const line = ledger.exportCsv({ timeZone: 'UTC', decimals: 18, symbol: 'OFT' }).csv.trim().split('\n')[1]!;
    expect(line.split(',')[5]).toBe('1000000000000.000000000000000001');
  });

  it('the trigger-kept totals equal a full recount after many changes', () => {
    for (let i = 1; i <= 200; i++) {
      ledger.recordVoucher(counted(ctx, voucher(100 + i, BigInt(i) * E18 + BigInt(i))), now - i * 3_600_000);
      if (i % 3 === 0) ledger.recordRedemption(redemption(100 + i, BigInt(i) * E18, BigInt(i) * E18, 1000 + i));
    }
    const recount = db.prepare('SELECT paid, vouched FROM ledger_earnings').all() as { paid: string; vouched: string }[];
    const paid = recount.reduce((s, r) => s + BigInt(r.paid), 0n);
    const vouched = recount.reduce((s, r) => s + BigInt(r.vouched), 0n);
    const t = ledger.totals();
    expect(t.redeemed).toBe(paid.toString());
    expect(BigInt(t.redeemable) + BigInt(t.redeemed)).toBe(vouched);
    const days = ledger.series('day', '2026-11-01', '2026-11-30', 'UTC');
    expect(days.reduce((s, p) => s + BigInt(p.earned), 0n)).toBe(BigInt(t.earned));
  });
});
