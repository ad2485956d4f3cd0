/**
 * The provider's marketplace records (migration 004): market_jobs, one row a market job this
 * agent took (the record of its money side that survives a restart), and market_offers, every
 * offer decided (the newest 500, for the dashboard). Every statement on these tables is here.
 */
import type { Db } from '../storage/database.js';
import type { OfferRecord } from './schema.js';
import { prepared } from '../storage/prepared.js';

export interface MarketJobRow {
  job_id: string;
  local_job_id: string;
  market_url: string;
  buyer: string;
  price_per_hour: string;
  report_interval_s: number;
  chain_id: number;
  escrow: string;
  accepted_at: number;
  report_seq: number;
  reported_seconds: number;
  paid_up_to: string;
  last_voucher_at: number | null;
  voucher_problem: string | null;
  ended_at: number | null;
  end_state: string | null;
  end_reason: string | null;
  final_sent: number;
  /** What the escrow had paid this job's channel before the job (null until read); vouchers pay the job only beyond it. */
  channel_paid_before?: string | null;
  /** The payout address the job was accepted for: every voucher of it must name it (null: this wallet). */
  payee?: string | null;
}

/** Decided offers kept: the newest this many. */
export const MAX_OFFERS_KEPT = 500;

interface OfferRow {
  offer_id: string;
  job_id: string;
  at: number;
  buyer: string;
  image: string;
  gpus: number;
  price_per_hour: string;
  max_duration_s: number;
  accepted: number;
  reason: string | null;
  detail: string;
}

export class MarketStore {
  constructor(private readonly db: Db) {}

  // ── jobs ────────────────────────────────────────────────────────────────

  job(jobId: string): MarketJobRow | undefined {
    return prepared<[string], MarketJobRow>(this.db, 'SELECT * FROM market_jobs WHERE job_id = ?').get(jobId);
  }

  jobOfLocal(localJobId: string): MarketJobRow | undefined {
    return prepared<[string], MarketJobRow>(this.db, 'SELECT * FROM market_jobs WHERE local_job_id = ?').get(localJobId);
  }

  /** Whether this market job id was ever taken here (by any buyer). */
  hasJob(jobId: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM market_jobs WHERE job_id = ?').get(jobId) !== undefined;
  }

  /** Jobs whose ending the market has not received yet (still running, or ended while unreachable). */
  undelivered(): MarketJobRow[] {
    return prepared<[], MarketJobRow>(this.db, 'SELECT * FROM market_jobs WHERE final_sent = 0').all();
  }

  /** Jobs with no recorded end. */
  unended(): MarketJobRow[] {
    return prepared<[], MarketJobRow>(this.db, 'SELECT * FROM market_jobs WHERE ended_at IS NULL').all();
  }

  /** Every job's buyer, by the market's job id. */
  buyers(): { job_id: string; buyer: string }[] {
    return prepared<[], { job_id: string; buyer: string }>(this.db, 'SELECT job_id, buyer FROM market_jobs').all();
  }

  /** A newly confirmed job; a job id is taken once, so this never replaces a row (it throws instead). */
  insertJob(row: MarketJobRow): void {
    prepared(
      this.db,
      `INSERT INTO market_jobs (job_id, local_job_id, market_url, buyer, price_per_hour, report_interval_s, chain_id, escrow, accepted_at, payee)
       VALUES (@job_id, @local_job_id, @market_url, @buyer, @price_per_hour, @report_interval_s, @chain_id, @escrow, @accepted_at, @payee)`,
    ).run({
      job_id: row.job_id,
      local_job_id: row.local_job_id,
      market_url: row.market_url,
      buyer: row.buyer,
      price_per_hour: row.price_per_hour,
      report_interval_s: row.report_interval_s,
      chain_id: row.chain_id,
      escrow: row.escrow,
      accepted_at: row.accepted_at,
      payee: row.payee ?? null,
    });
  }

  setReported(jobId: string, seq: number, seconds: number): void {
    prepared(this.db, 'UPDATE market_jobs SET report_seq = ?, reported_seconds = ? WHERE job_id = ?').run(seq, seconds, jobId);
  }

  /** A valid voucher: paid up to `upTo`, and no voucher problem any more. */
  setPaid(jobId: string, upTo: bigint, at: number): void {
    prepared(this.db, 'UPDATE market_jobs SET paid_up_to = ?, last_voucher_at = ?, voucher_problem = NULL WHERE job_id = ?').run(upTo.toString(), at, jobId);
  }

  setVoucherProblem(jobId: string, problem: string): void {
    prepared(this.db, 'UPDATE market_jobs SET voucher_problem = ? WHERE job_id = ?').run(problem, jobId);
  }

  /** Recorded once: a later reading never replaces the first. */
  setChannelPaidBefore(jobId: string, amount: bigint): void {
    prepared(this.db, 'UPDATE market_jobs SET channel_paid_before = ? WHERE job_id = ? AND channel_paid_before IS NULL').run(amount.toString(), jobId);
  }

  /** `endReason` is the packed "reason\nexit code\ndetail" the ending is sent from. */
  recordEnd(jobId: string, end: { at: number; state: string; endReason: string; seconds: number }): void {
    prepared(this.db, 'UPDATE market_jobs SET ended_at = ?, end_state = ?, end_reason = ?, reported_seconds = max(reported_seconds, ?) WHERE job_id = ?')
      .run(end.at, end.state, end.endReason, end.seconds, jobId);
  }

  /** The market received the job's ending. */
  markEndingSent(jobId: string): void {
    prepared(this.db, 'UPDATE market_jobs SET final_sent = 1 WHERE job_id = ?').run(jobId);
  }

  // ── offers ──────────────────────────────────────────────────────────────

  offerSeen(offerId: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM market_offers WHERE offer_id = ?').get(offerId) !== undefined;
  }

  /** Keeps a decided offer (the first with its id stands), and only the newest MAX_OFFERS_KEPT. */
  recordOffer(o: OfferRecord): void {
    prepared(this.db, 'INSERT OR IGNORE INTO market_offers (offer_id, job_id, at, buyer, image, gpus, price_per_hour, max_duration_s, accepted, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(o.offerId, o.jobId, o.at, o.buyer, o.image, o.gpus, o.pricePerHour, o.maxDurationSeconds, o.accepted ? 1 : 0, o.reason, o.detail);
    prepared(this.db, `DELETE FROM market_offers WHERE at < (SELECT at FROM market_offers ORDER BY at DESC LIMIT 1 OFFSET ${MAX_OFFERS_KEPT - 1})`).run();
  }

  /** The newest decided offers, newest first. */
  recentOffers(limit = 50): OfferRecord[] {
    return prepared<[number], OfferRow>(this.db, 'SELECT * FROM market_offers ORDER BY at DESC LIMIT ?')
      .all(limit)
      .map((r) => ({
        offerId: r.offer_id,
        jobId: r.job_id,
        at: r.at,
        buyer: r.buyer,
        image: r.image,
        gpus: r.gpus,
        pricePerHour: r.price_per_hour,
        maxDurationSeconds: r.max_duration_s,
        accepted: r.accepted === 1,
        reason: r.reason as OfferRecord['reason'],
        detail: r.detail,
      }));
  }

  /** Prices per GPU-hour of the newest offers for GPUs (base units). */
  recentGpuPrices(limit = 50): bigint[] {
    return prepared<[number], { price_per_hour: string; gpus: number }>(this.db, 'SELECT price_per_hour, gpus FROM market_offers WHERE gpus > 0 ORDER BY at DESC LIMIT ?')
      .all(limit)
      .map((r) => BigInt(r.price_per_hour) / BigInt(r.gpus));
  }
}
