/**
 * Ledger benchmark: one million synthetic jobs over two years (runner jobs with their GPUs,
 * one voucher each through the ledger's own API, two thirds of them redeemed), then:
 *   - earnings by day for the last 365 days (target < 50 ms)
 *   - all-time totals (target < 50 ms)
 *   - CSV export of 100 000 rows (target < 2 s)
 * Run: npx tsx test/bench/ledger.ts [jobs]   (OFFSHIFT_BENCH_JOBS also sets the count)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ledger } from '../../runtime/ledger/ledger.js';
import { addDays, localDateKey } from '../../runtime/time/zone.js';
import { DATABASE_FILE, openDatabase } from '../../runtime/storage/database.js';
import { counted } from '../helpers/checked-voucher.js';
import { makeTempHome } from '../helpers/temp-home.js';

const ctx = { chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const buyer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const provider = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

function time<T>(fn: () => T, runs = 5): { ms: number; value: T } {
  let value = fn(); // warm
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, value };
}

export async function main(jobCount = Number(process.argv[2] ?? process.env.OFFSHIFT_BENCH_JOBS ?? 1_000_000)): Promise<void> {
  const temp = makeTempHome('offshift-bench-ledger-');
  try {
    const db = openDatabase(path.join(temp.home, DATABASE_FILE));
    const now = Date.now();
    const ledger = new Ledger(db, () => now);
    const span = 2 * 365 * 86_400_000;
    const insertJob = db.prepare(
      "INSERT INTO jobs (id, market_job_id, spec, state, reason, state_changed_at, created_at, started_at, ended_at) VALUES (?, ?, '{}', 'succeeded', 'done', ?, ?, ?, ?)",
    );
    const insertGpu = db.prepare('INSERT INTO job_gpus (job_id, gpu_key) VALUES (?, ?)');
    const t0 = performance.now();
    const batch = 20_000;
    for (let start = 0; start < jobCount; start += batch) {
      db.transaction(() => {
        for (let i = start; i < Math.min(jobCount, start + batch); i++) {
          const ended = now - span + Math.floor((i / jobCount) * span);
          const began = ended - (60_000 + (i % 240) * 60_000);
          const id = `job-${i}`;
          const marketId = hex(i + 1, 64);
          insertJob.run(id, marketId, began, began, began, ended);
          insertGpu.run(id, `gpu-${i % 8}`);
          if (i % 5 === 0) insertGpu.run(id, `gpu-${(i + 1) % 8}`);
          const amount = BigInt(1 + (i % 997)) * 10n ** 15n + BigInt(i);
          ledger.recordVoucher(counted(ctx, { voucher: { buyer, provider, jobId: marketId, cumulativeAmount: amount.toString(), expiry: Math.floor(now / 1000) + 86_400 }, signature: hex(i + 1, 130) }), ended);
          if (i % 3 !== 0) {
            ledger.recordRedemption({ ...ctx, txHash: hex(i + 1, 64), logIndex: 0, blockNumber: i + 1, blockTime: ended, buyer, provider, jobId: marketId, amount, cumulative: amount });
          }
        }
      })();
    }
    const insertS = (performance.now() - t0) / 1000;
    console.log(`ledger bench: ${jobCount.toLocaleString('en')} jobs over 2 years recorded in ${insertS.toFixed(1)} s`);

    const tz = 'Europe/Paris';
    const today = localDateKey(now, tz);
    const byDay = time(() => ledger.series('day', addDays(today, -364), today, tz));
    const totals = time(() => ledger.totals());
    const fromMs = now - span + Math.floor(((jobCount - 100_000) / jobCount) * span);
    const csv = time(() => ledger.exportCsv({ fromMs, timeZone: tz, decimals: 18, symbol: 'OFT' }), 3);

    // Cross-check: the trigger-kept totals equal a full recount.
    const recount = db.prepare('SELECT paid FROM ledger_earnings').pluck().all() as string[];
    const paid = recount.reduce((s, v) => s + BigInt(v), 0n);
    if (paid.toString() !== totals.value.redeemed) throw new Error(`totals disagree: ${totals.value.redeemed} vs recount ${paid}`);

    const row = (name: string, ms: number, target: number) => console.log(`  ${name.padEnd(44)} ${(ms < 1 ? ms.toFixed(3) : ms.toFixed(1)).padStart(8)} ms   (target < ${target} ms) ${ms < target ? 'OK' : 'SLOW'}`);
    row(`earnings by day, last 365 days (${byDay.value.length} days)`, byDay.ms, 50);
    row(`all-time totals (${totals.value.jobs.toLocaleString('en')} jobs)`, totals.ms, 50);
    row(`CSV export (${csv.value.rows.toLocaleString('en')} rows, ${(csv.value.csv.length / 1e6).toFixed(1)} MB)`, csv.ms, 2000);
    db.close();
  } finally {
    temp.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
