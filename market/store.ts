/**
 * The market's job state in its own SQLite database (WAL, numbered migrations like the agent's):
 * jobs, every offer with its decision, the usage reports and vouchers relayed. Restarting the
 * market on the same file keeps the jobs.
 */
import { openDatabase, type Db } from '../runtime/storage/database.js';
import type { JobRequest, SignedVoucher, UsageReport } from '../protocol/index.js';
import { attemptFromRow, fromRow, type AttemptRecord, type AttemptRow, type JobRow, type StoredJob } from './job-records.js';
import { marketMigrations } from './migrations.js';

export { ENDED_STATES, jobTotals, jobView, type AttemptRecord, type StoredJob } from './job-records.js';

export class MarketStore {
  readonly db: Db;
  private readonly q;

  constructor(file: string) {
    this.db = openDatabase(file, marketMigrations);
    const db = this.db;
    this.q = {
      insertJob: db.prepare('INSERT INTO jobs (id, buyer, request, state, submitted_at, queued_at, max_attempts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateJob: db.prepare(
        'UPDATE jobs SET state = @state, reason = @reason, detail = @detail, provider = @provider, payee = @payee, usage_seconds = @usageSeconds, last_seq = @lastSeq, exit_code = @exitCode, offers = @offers, ended_at = @endedAt, attempt = @attempt, queued_at = @queuedAt WHERE id = @id',
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
      withdrawStanding: db.prepare("UPDATE offers SET decision = 'withdrawn', reason = ?, detail = ?, decided_at = ? WHERE decision IS NULL"),
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
    this.q.updateJob.run({ id: j.id, state: j.state, reason: j.reason, detail: j.detail, provider: j.provider, payee: j.payee, usageSeconds: j.usageSeconds, lastSeq: j.lastSeq, exitCode: j.exitCode, offers: j.offers, endedAt: j.endedAt, attempt: j.attempt, queuedAt: j.queuedAt });
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

  /** Offers still standing when the market restarted: void now (their jobs are queued again). */
  withdrawStandingOffers(reason: string, detail: string, at: number): void {
    this.q.withdrawStanding.run(reason, detail, at);
  }

  /** Runs `fn` in one transaction. */
  transaction(fn: () => void): void {
    this.db.transaction(fn)();
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
