/** A market job as the database keeps it: its record, its earlier attempts, its rows, and the view shown at GET /v1/jobs. */
import { jobRequestSchema, type JobRequest, type MarketJobState, type MarketJobView, type SignedVoucher } from '../protocol/index.js';

/** An attempt that is over while the job goes on (its provider was preempted), or one of an ended job. */
export interface AttemptRecord {
  attempt: number;
  provider: string;
  usageSeconds: number;
  lastSeq: number | null;
  /** The last voucher's cumulative amount on this attempt's channel. */
  paid: string;
  lastVoucher: SignedVoucher | null;
  state: MarketJobState;
  reason: string;
  detail: string;
  endedAt: number;
}

export interface StoredJob {
  id: string;
  buyer: string;
  request: JobRequest;
  state: MarketJobState;
  reason: string;
  detail: string;
  provider: string | null;
  /** The provider's payout address when it accepted (revision 3): the attempt's vouchers pay it. Null: the provider. */
  payee: string | null;
  usageSeconds: number;
  lastSeq: number | null;
  paid: string;
  lastVoucher: SignedVoucher | null;
  exitCode: number | null;
  offers: number;
  submittedAt: number;
  endedAt: number | null;
  /** The attempt now (1 unless the job was preempted and placed again), of at most `maxAttempts`. */
  attempt: number;
  maxAttempts: number;
  /** When the job last started waiting for a provider (submitted, or placed again): the queue timeout counts from here. */
  queuedAt: number;
  /** The attempts before this one, oldest first (their providers are not offered the job again). */
  attempts: AttemptRecord[];
}

export interface JobRow {
  id: string;
  buyer: string;
  request: string;
  state: string;
  reason: string;
  detail: string;
  provider: string | null;
  usage_seconds: number;
  last_seq: number | null;
  paid: string;
  last_voucher: string | null;
  exit_code: number | null;
  offers: number;
  submitted_at: number;
  ended_at: number | null;
  attempt: number;
  max_attempts: number;
  queued_at: number | null;
  payee: string | null;
}

export interface AttemptRow {
  job_id: string;
  attempt: number;
  provider: string;
  usage_seconds: number;
  last_seq: number | null;
  paid: string;
  last_voucher: string | null;
  state: string;
  reason: string;
  detail: string;
  ended_at: number;
}

export const ENDED_STATES: ReadonlySet<MarketJobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed-out', 'preempted', 'unpaid', 'market-unreachable', 'expired']);

export function attemptFromRow(r: AttemptRow): AttemptRecord {
  return {
    attempt: r.attempt,
    provider: r.provider,
    usageSeconds: r.usage_seconds,
    lastSeq: r.last_seq,
    paid: r.paid,
    lastVoucher: r.last_voucher ? (JSON.parse(r.last_voucher) as SignedVoucher) : null,
    state: r.state as MarketJobState,
    reason: r.reason,
    detail: r.detail,
    endedAt: r.ended_at,
  };
}

export function fromRow(r: JobRow, attempts: AttemptRecord[]): StoredJob {
  return {
    id: r.id,
    buyer: r.buyer,
    request: jobRequestSchema.parse(JSON.parse(r.request)),
    state: r.state as MarketJobState,
    reason: r.reason,
    detail: r.detail,
    provider: r.provider,
    payee: r.payee ?? null,
    usageSeconds: r.usage_seconds,
    lastSeq: r.last_seq,
    paid: r.paid,
    lastVoucher: r.last_voucher ? (JSON.parse(r.last_voucher) as SignedVoucher) : null,
    exitCode: r.exit_code,
    offers: r.offers,
    submittedAt: r.submitted_at,
    endedAt: r.ended_at,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    queuedAt: r.queued_at ?? r.submitted_at,
    attempts,
  };
}

/** Seconds run and paid over every attempt of the job, the current one included. */
export function jobTotals(j: StoredJob): { usageSeconds: number; paid: string; attempts: number } {
  let usage = j.usageSeconds;
  let paid = BigInt(j.paid);
  for (const a of j.attempts) {
    usage += a.usageSeconds;
    paid += BigInt(a.paid);
  }
  // The current attempt counts once a provider took it.
  return { usageSeconds: usage, paid: paid.toString(), attempts: j.attempts.length + (j.provider ? 1 : 0) };
}

export function jobView(j: StoredJob): MarketJobView {
  const totals = jobTotals(j);
  return {
    jobId: j.id,
    state: j.state,
    reason: j.reason,
    buyer: j.buyer,
    provider: j.provider,
    image: j.request.image,
    gpus: j.request.gpus,
    pricePerHour: j.request.pricePerHour,
    usageSeconds: totals.usageSeconds,
    paid: totals.paid,
    submittedAt: j.submittedAt,
    endedAt: j.endedAt,
    offers: j.offers,
    attempts: totals.attempts,
    maxAttempts: j.maxAttempts,
  };
}
