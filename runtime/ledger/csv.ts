/** The earnings as CSV for a spreadsheet or an accountant: one row a job, amounts exact, dates in the owner's zone. */
import type { Db } from '../storage/database.js';
import { offsetMs } from '../time/zone.js';
import { joinText } from './amount.js';
import { BUCKET_MS, PAID_TO } from './reports.js';

/**
 * One CSV cell. A cell a spreadsheet would run as a formula (it begins with = + - @, a tab or
 * a carriage return: OWASP's list) gets a leading ' and is quoted, so it is shown as text.
 */
export function csvField(value: string): string {
  if (/^[=+\-@\t\r]/.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * CSV, one row a job in [fromMs, toMs), oldest first: date (ISO 8601 in the owner's zone, with
 * its offset), job id, GPUs (";"-separated), duration in seconds, amount earned in tokens
 * (exact decimal), token symbol, voucher status, redeem transaction, and the payout address the
 * money goes to (empty: this machine's wallet).
 */
export function exportCsv(db: Db, options: { fromMs?: number; toMs?: number; timeZone: string; decimals: number; symbol: string }): { csv: string; rows: number } {
  const lines = ['date,job_id,local_job_id,gpus,duration_s,amount,token,status,redeem_tx,paid_to'];
  const offsets = new Map<number, { off: number; day: string; zone: string; dayStart: number }>();
  const symbol = csvField(options.symbol);
  const stmt = db
    .prepare(
      `SELECT e.at, e.market_job_id, e.job_id, (SELECT group_concat(gpu_key, ';') FROM job_gpus WHERE job_id = e.job_id) AS gpus,
              j.started_at, j.ended_at, CAST(e.earned_hi AS TEXT), CAST(e.earned_lo AS TEXT), e.status, e.redeem_tx, ${PAID_TO}
       FROM ledger_earnings e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.at >= ? AND e.at < ? ORDER BY e.at, e.id`,
    )
    .raw(true);
  for (const raw of stmt.iterate(options.fromMs ?? 0, options.toMs ?? Number.MAX_SAFE_INTEGER)) {
    const [at, marketJobId, jobId, gpus, started, ended, hi, lo, status, redeemTx, paidTo] = raw as [number, string, string | null, string | null, number | null, number | null, string, string, string, string | null, string | null];
    const bucket = Math.floor(at / BUCKET_MS);
    let local = offsets.get(bucket);
    if (local === undefined) {
      const off = offsetMs(bucket * BUCKET_MS, options.timeZone);
      // The local date and the zone suffix are the same for the whole bucket; only the time of day varies.
      local = { off, day: isoLocal(bucket * BUCKET_MS, off).slice(0, 11), zone: isoLocal(bucket * BUCKET_MS, off).slice(19), dayStart: 0 };
      const localMs = bucket * BUCKET_MS + off;
      local.dayStart = localMs - (((localMs % 86_400_000) + 86_400_000) % 86_400_000);
      offsets.set(bucket, local);
    }
    const duration = started !== null && ended !== null ? String(Math.round((ended - started) / 1000)) : '';
    lines.push(
      `${local.day}${timeOfDay(at + local.off - local.dayStart)}${local.zone},${csvField(marketJobId)},${jobId === null ? '' : csvField(jobId)},${gpus === null ? '' : csvField(gpus)},${duration},${formatDigits(joinText(hi, lo), options.decimals)},${symbol},${status},${redeemTx ?? ''},${paidTo ?? ''}`,
    );
  }
  return { csv: lines.join('\n') + '\n', rows: lines.length - 1 };
}

function formatDigits(digitsIn: string, decimals: number): string {
  if (decimals === 0) return digitsIn;
  const digits = digitsIn.padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  let end = digits.length;
  while (end > cut && digits.charCodeAt(end - 1) === 48) end--;
  return end === cut ? digits.slice(0, cut) : `${digits.slice(0, cut)}.${digits.slice(cut, end)}`;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));
function timeOfDay(msIntoDay: number): string {
  const s = Math.floor(msIntoDay / 1000);
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

function isoLocal(utcMs: number, offset: number): string {
  const d = new Date(utcMs + offset);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}
