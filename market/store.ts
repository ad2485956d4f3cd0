/**
 * The market's job state in its own SQLite database (WAL, numbered migrations like the agent's):
 * jobs, every offer with its decision, the usage reports and vouchers relayed. Restarting the
 * market on the same file keeps the jobs.
 */
import { openDatabase, type Db, type Migration } from '../runtime/storage/database.js';
import { jobRequestSchema, type JobRequest, type MarketJobState, type MarketJobView, type UsageReport } from '../protocol/index.js';
import type { SignedVoucher } from '../protocol/index.js';

export const marketMigrations: Migration[] = [
  {
    version: 1,
    name: 'market-init',
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        buyer TEXT NOT NULL,
        request TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        provider TEXT,
        usage_seconds INTEGER NOT NULL DEFAULT 0,
        last_seq INTEGER,
        paid TEXT NOT NULL DEFAULT '0',
        last_voucher TEXT,
        exit_code INTEGER,
        offers INTEGER NOT NULL DEFAULT 0,
        submitted_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      CREATE INDEX jobs_state ON jobs(state);
      CREATE INDEX jobs_submitted ON jobs(submitted_at);
      CREATE TABLE offers (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        provider TEXT NOT NULL,
        offered_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decision TEXT,
        reason TEXT,
        detail TEXT,
        decided_at INTEGER
      );
      CREATE INDEX offers_job ON offers(job_id);
      CREATE TABLE usage_reports (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        seq INTEGER NOT NULL,
        usage_seconds INTEGER NOT NULL,
        amount_due TEXT NOT NULL,
        final INTEGER NOT NULL,
        provider TEXT NOT NULL,
        report TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, seq)
      );
      CREATE TABLE vouchers (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        cumulative TEXT NOT NULL,
        voucher TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX vouchers_job ON vouchers(job_id);
    `,
  },
  {
    // A preempted job is placed again: each provider that ran it is an attempt, paid on its own channel.
    version: 2,
    name: 'market-attempts',
    sql: `
      ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE jobs ADD COLUMN queued_at INTEGER;
      UPDATE jobs SET queued_at = submitted_at;
      CREATE TABLE attempts (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        attempt INTEGER NOT NULL,
        provider TEXT NOT NULL,
        usage_seconds INTEGER NOT NULL,
        last_seq INTEGER,
        paid TEXT NOT NULL,
        last_voucher TEXT,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        ended_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, attempt)
      );
      CREATE TABLE usage_reports_2 (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        attempt INTEGER NOT NULL DEFAULT 1,
        seq INTEGER NOT NULL,
        usage_seconds INTEGER NOT NULL,
        amount_due TEXT NOT NULL,
        final INTEGER NOT NULL,
        provider TEXT NOT NULL,
        report TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, attempt, seq)
      );
      INSERT INTO usage_reports_2 (job_id, attempt, seq, usage_seconds, amount_due, final, provider, report, received_at)
        SELECT job_id, 1, seq, usage_seconds, amount_due, final, provider, report, received_at FROM usage_reports;
      DROP TABLE usage_reports;
      ALTER TABLE usage_reports_2 RENAME TO usage_reports;
      ALTER TABLE vouchers ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
    `,
  },
];

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

interface JobRow {
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
}

interface AttemptRow {
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

function attemptFromRow(r: AttemptRow): AttemptRecord {
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

function fromRow(r: JobRow, attempts: AttemptRecord[]): StoredJob {
  return {
    id: r.id,
    buyer: r.buyer,
    request: jobRequestSchema.parse(JSON.parse(r.request)),
    state: r.state as MarketJobState,
    reason: r.reason,
    detail: r.detail,
    provider: r.provider,
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

export class MarketStore {
  readonly db: Db;
  private readonly q;

  constructor(file: string) {
    this.db = openDatabase(file, marketMigrations);
    const db = this.db;
    this.q = {
      insertJob: db.prepare('INSERT INTO jobs (id, buyer, request, state, submitted_at, queued_at, max_attempts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateJob: db.prepare(
        'UPDATE jobs SET state = @state, reason = @reason, detail = @detail, provider = @provider, usage_seconds = @usageSeconds, last_seq = @lastSeq, exit_code = @exitCode, offers = @offers, ended_at = @endedAt, attempt = @attempt, queued_at = @queuedAt WHERE id = @id',
      ),
      attemptsOf: db.prepare('SELECT * FROM attempts WHERE job_id = ? ORDER BY attempt'),
      insertAttempt: db.prepare(
        'INSERT INTO attempts (job_id, attempt, provider, usage_seconds, last_seq, paid, last_voucher, state, reason, detail, ended_at) VALUES (@jobId, @attempt, @provider, @usageSeconds, @lastSeq, @paid, @lastVoucher, @state, @reason, @detail, @endedAt)',
      ),
      updateAttempt: db.prepare('UPDATE attempts SET usage_seconds = @usageSeconds, last_seq = @lastSeq WHERE job_id = @jobId AND attempt = @attempt'),
      setAttemptPaid: db.prepare('UPDATE attempts SET paid = ?, last_voucher = ? WHERE job_id = ? AND attempt = ?'),
      resetPaid: db.prepare("UPDATE jobs SET paid = '0', last_voucher = NULL WHERE id = ?"),
      job: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      active: db.prepare(`SELECT * FROM jobs WHERE ended_at IS NULL ORDER BY submitted_at, rowid`),
      recent: db.prepare('SELECT * FROM jobs ORDER BY submitted_at DESC, rowid DESC LIMIT ?'),
      insertOffer: db.prepare('INSERT INTO offers (id, job_id, provider, offered_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      decideOffer: db.prepare('UPDATE offers SET decision = ?, reason = ?, detail = ?, decided_at = ? WHERE id = ? AND decision IS NULL'),
      offersOf: db.prepare('SELECT id, provider, offered_at AS offeredAt, expires_at AS expiresAt, decision, reason, detail, decided_at AS decidedAt FROM offers WHERE job_id = ? ORDER BY offered_at, rowid'),
      insertUsage: db.prepare('INSERT OR IGNORE INTO usage_reports (job_id, attempt, seq, usage_seconds, amount_due, final, provider, report, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertVoucher: db.prepare('INSERT INTO vouchers (job_id, attempt, cumulative, voucher, received_at) VALUES (?, ?, ?, ?, ?)'),
      setPaid: db.prepare('UPDATE jobs SET paid = ?, last_voucher = ? WHERE id = ?'),
    };
  }

  insertJob(id: string, buyer: string, request: JobRequest, at: number, maxAttempts: number): void {
    this.q.insertJob.run(id, buyer, JSON.stringify(request), 'queued', at, at, maxAttempts);
  }

  saveJob(j: StoredJob): void {
    this.q.updateJob.run({ id: j.id, state: j.state, reason: j.reason, detail: j.detail, provider: j.provider, usageSeconds: j.usageSeconds, lastSeq: j.lastSeq, exitCode: j.exitCode, offers: j.offers, endedAt: j.endedAt, attempt: j.attempt, queuedAt: j.queuedAt });
  }

  /** The row, with its earlier attempts read only when there are some. */
  private withAttempts(row: JobRow): StoredJob {
    return fromRow(row, row.attempt > 1 ? (this.q.attemptsOf.all(row.id) as AttemptRow[]).map(attemptFromRow) : []);
  }

  job(id: string): StoredJob | null {
    const row = this.q.job.get(id) as JobRow | undefined;
    return row ? this.withAttempts(row) : null;
  }

  /** Jobs not ended, oldest first: what a restarted market picks up again. */
  activeJobs(): StoredJob[] {
    return (this.q.active.all() as JobRow[]).map((r) => this.withAttempts(r));
  }

  recentJobs(limit: number): StoredJob[] {
    return (this.q.recent.all(limit) as JobRow[]).map((r) => this.withAttempts(r));
  }

  /**
   * The current attempt is over (its provider was preempted) and the job goes on: the attempt is
   * recorded with what it ran and was paid, the job's row starts the next attempt from nothing.
   * One transaction; `job` already holds the next attempt's state.
   */
  nextAttempt(job: StoredJob, ended: AttemptRecord): void {
    this.db.transaction(() => {
      this.q.insertAttempt.run({
        jobId: job.id,
        attempt: ended.attempt,
        provider: ended.provider,
        usageSeconds: ended.usageSeconds,
        lastSeq: ended.lastSeq,
        paid: ended.paid,
        lastVoucher: ended.lastVoucher ? JSON.stringify(ended.lastVoucher) : null,
        state: ended.state,
        reason: ended.reason,
        detail: ended.detail.slice(0, 2000),
        endedAt: ended.endedAt,
      });
      this.q.resetPaid.run(job.id);
      this.saveJob(job);
    })();
  }

  /** A late report of an earlier attempt (its final one, typically). */
  saveAttemptUsage(jobId: string, a: AttemptRecord): void {
    this.q.updateAttempt.run({ jobId, attempt: a.attempt, usageSeconds: a.usageSeconds, lastSeq: a.lastSeq });
  }

  /** A voucher for an earlier attempt's channel. */
  insertAttemptVoucher(jobId: string, attempt: number, signed: SignedVoucher, at: number): void {
    this.db.transaction(() => {
      this.q.insertVoucher.run(jobId, attempt, signed.voucher.cumulativeAmount, JSON.stringify(signed), at);
      this.q.setAttemptPaid.run(signed.voucher.cumulativeAmount, JSON.stringify(signed), jobId, attempt);
    })();
  }

  insertOffer(id: string, jobId: string, provider: string, at: number, expiresAt: number): void {
    this.q.insertOffer.run(id, jobId, provider, at, expiresAt);
  }

  decideOffer(id: string, decision: 'accepted' | 'declined' | 'expired' | 'withdrawn', reason: string | null, detail: string, at: number): void {
    this.q.decideOffer.run(decision, reason, detail.slice(0, 2000), at, id);
  }

  offersOf(jobId: string): { id: string; provider: string; offeredAt: number; expiresAt: number; decision: string | null; reason: string | null; detail: string | null; decidedAt: number | null }[] {
    return this.q.offersOf.all(jobId) as never;
  }

  insertUsage(r: UsageReport, attempt: number, at: number): void {
    this.q.insertUsage.run(r.jobId, attempt, r.seq, r.usageSeconds, r.amountDue, r.final ? 1 : 0, r.provider, JSON.stringify(r), at);
  }

  insertVoucher(jobId: string, attempt: number, signed: SignedVoucher, at: number): void {
    this.db.transaction(() => {
      this.q.insertVoucher.run(jobId, attempt, signed.voucher.cumulativeAmount, JSON.stringify(signed), at);
      this.q.setPaid.run(signed.voucher.cumulativeAmount, JSON.stringify(signed), jobId);
    })();
  }

  close(): void {
    this.db.close();
  }
}
