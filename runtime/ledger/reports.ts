/**
 * What the earnings screen reads: all-time totals (one row the triggers keep), sums of the
 * 15-minute buckets by local day, week or month, earnings by GPU, and the job table.
 */
import { AppError } from '../errors.js';
import { addDays, dateRange, parseDateKey, startOfDay, weekStart } from '../time/zone.js';
import { join, joinText } from './amount.js';
import type { EarningStatus, Part } from './classify.js';
import type { LedgerCore } from './core.js';
import type { EarningRow, EarningsTotals, SeriesPoint } from './schema.js';

export const BUCKET_MS = 900_000;

/** All-time totals: one row kept by the triggers, plus the (small) withdrawals table. */
export function totals(core: LedgerCore): EarningsTotals {
  const row = core.st.totals.get() as Record<string, bigint>;
  const w = core.st.withdrawn.get() as { hi: bigint | null; lo: bigint | null };
  const part = (p: Part) => join(row[`${p}_hi`]!, row[`${p}_lo`]!).toString();
  return {
    pending: part('pending'),
    redeemable: part('redeemable'),
    redeemed: part('redeemed'),
    expired: part('expired'),
    earned: part('earned'),
    withdrawn: join(w.hi, w.lo).toString(),
    jobs: Number(row.jobs),
  };
}

/** Sum over [fromMs, toMs) of the 15-minute buckets (both multiples of 15 minutes in practice). */
function sumRange(core: LedgerCore, fromMs: number, toMs: number): { earned: bigint; redeemed: bigint; jobs: number } {
  const r = core.st.bucketRange.get(Math.floor(fromMs / BUCKET_MS), Math.floor(toMs / BUCKET_MS)) as Record<string, bigint | null>;
  return { earned: join(r.eh ?? null, r.el ?? null), redeemed: join(r.rh ?? null, r.rl ?? null), jobs: Number(r.jobs ?? 0n) };
}

/** Earnings by local day, ISO week (Monday) or month, from `from` to `to` (local dates, inclusive). */
export function series(core: LedgerCore, unit: 'day' | 'week' | 'month', from: string, to: string, timeZone: string): SeriesPoint[] {
  if (parseDateKey(from) && parseDateKey(to) && from > to) throw new AppError('invalid-input', `The range starts (${from}) after it ends (${to}).`);
  const points: SeriesPoint[] = [];
  const days = dateRange(from, to);
  // Each local day is a range of 15-minute buckets; one statement sums them all.
  const bounds: number[] = [];
  for (const day of [...days, parseDateKey(addDays(to, 1))]) bounds.push(Math.floor(startOfDay(day.y, day.m, day.d, timeZone) / BUCKET_MS));
  const sums = new Map<number, { earned: bigint; redeemed: bigint; jobs: number }>();
  for (let chunk = 0; chunk < days.length; chunk += 2000) {
    const n = Math.min(2000, days.length - chunk);
    const values = Array.from({ length: n }, () => '(?, ?, ?)').join(', ');
    const params: number[] = [];
    for (let i = chunk; i < chunk + n; i++) params.push(i, bounds[i]!, bounds[i + 1]!);
    const rows = core.db
      .prepare(
        `WITH d(i, s, e) AS (VALUES ${values})
         SELECT d.i AS i, sum(b.jobs) AS jobs, sum(b.earned_hi) AS eh, sum(b.earned_lo) AS el, sum(b.redeemed_hi) AS rh, sum(b.redeemed_lo) AS rl
         FROM d JOIN ledger_buckets b ON b.bucket >= d.s AND b.bucket < d.e GROUP BY d.i`,
      )
      .safeIntegers(true)
      .all(...params) as { i: bigint; jobs: bigint; eh: bigint; el: bigint; rh: bigint; rl: bigint }[];
    for (const r of rows) sums.set(Number(r.i), { earned: join(r.eh, r.el), redeemed: join(r.rh, r.rl), jobs: Number(r.jobs) });
  }
  let current: { period: string; earned: bigint; redeemed: bigint; jobs: number } | undefined;
  days.forEach((day, i) => {
    const sum = sums.get(i) ?? { earned: 0n, redeemed: 0n, jobs: 0 };
    const period = unit === 'day' ? day.key : unit === 'week' ? weekStart(day.key) : day.key.slice(0, 7);
    if (!current || current.period !== period) {
      if (current) points.push({ period: current.period, earned: current.earned.toString(), redeemed: current.redeemed.toString(), jobs: current.jobs });
      current = { period, earned: 0n, redeemed: 0n, jobs: 0 };
    }
    current.earned += sum.earned;
    current.redeemed += sum.redeemed;
    current.jobs += sum.jobs;
  });
  if (current) points.push({ period: current.period, earned: current.earned.toString(), redeemed: current.redeemed.toString(), jobs: current.jobs });
  return points;
}

/** Earned in [fromMs, toMs). */
export function earnedBetween(core: LedgerCore, fromMs: number, toMs: number): bigint {
  return sumRange(core, fromMs, toMs).earned;
}

/**
 * Earnings by GPU: a job's amount is shared equally by the GPUs it ran on (the remainder of
 * the division to the first GPU by key), so the GPUs add up to the total exactly. Jobs with
 * no GPU recorded are listed under "unassigned".
 */
export function byGpu(core: LedgerCore, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): { gpuKey: string; earned: string; jobs: number }[] {
  const rows = core.db
    .prepare(
      `SELECT g.gpu_key AS gpu, e.earned_hi AS hi, e.earned_lo AS lo,
              (SELECT count(*) FROM job_gpus c WHERE c.job_id = e.job_id) AS n,
              (SELECT count(*) FROM job_gpus c WHERE c.job_id = e.job_id AND c.gpu_key < g.gpu_key) AS rank
       FROM ledger_earnings e LEFT JOIN job_gpus g ON g.job_id = e.job_id
       WHERE e.at >= ? AND e.at < ?`,
    )
    .safeIntegers(true)
    .all(fromMs, toMs) as { gpu: string | null; hi: bigint; lo: bigint; n: bigint; rank: bigint }[];
  const out = new Map<string, { earned: bigint; jobs: number }>();
  for (const r of rows) {
    const amount = join(r.hi, r.lo);
    const key = r.gpu ?? 'unassigned';
    const n = r.gpu ? r.n : 1n;
    const share = amount / n + (r.rank === 0n ? amount % n : 0n);
    const entry = out.get(key) ?? { earned: 0n, jobs: 0 };
    entry.earned += share;
    entry.jobs += 1;
    out.set(key, entry);
  }
  return [...out.entries()].map(([gpuKey, v]) => ({ gpuKey, earned: v.earned.toString(), jobs: v.jobs })).sort((a, b) => a.gpuKey.localeCompare(b.gpuKey));
}

/** Where a job's money goes: the payee its vouchers name (NULL: this wallet). One index lookup a job. */
export const PAID_TO = `(SELECT v.payee FROM ledger_vouchers v WHERE v.chain_id = e.chain_id AND v.escrow = e.escrow AND v.market_job_id = e.market_job_id AND v.payee IS NOT NULL LIMIT 1) AS paid_to`;

const JOB_SELECT = `
  SELECT e.market_job_id, e.job_id, e.at, e.vouched, e.owed, e.paid, e.status, e.redeem_tx, CAST(e.earned_hi AS TEXT) AS earned_hi, CAST(e.earned_lo AS TEXT) AS earned_lo,
         j.started_at, j.ended_at,
         (SELECT group_concat(gpu_key, ';') FROM job_gpus WHERE job_id = e.job_id) AS gpus,
         ${PAID_TO}
  FROM ledger_earnings e LEFT JOIN jobs j ON j.id = e.job_id`;

function toRow(r: Record<string, unknown>): EarningRow {
  const started = r.started_at as number | null;
  const ended = r.ended_at as number | null;
  return {
    marketJobId: r.market_job_id as string,
    jobId: (r.job_id as string | null) ?? null,
    at: Number(r.at),
    gpus: r.gpus ? String(r.gpus).split(';') : [],
    durationMs: started !== null && ended !== null ? Number(ended) - Number(started) : null,
    earned: joinText(r.earned_hi as string, r.earned_lo as string),
    paid: String(r.paid),
    status: r.status as EarningStatus,
    redeemTx: (r.redeem_tx as string | null) ?? null,
    paidTo: (r.paid_to as string | null) ?? null,
  };
}

/** The job table, newest first. */
export function jobs(core: LedgerCore, limit = 100, offset = 0): { jobs: EarningRow[]; total: number } {
  const rows = core.db.prepare(`${JOB_SELECT} ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?`).all(limit, offset) as Record<string, unknown>[];
  return { jobs: rows.map(toRow), total: totals(core).jobs };
}
