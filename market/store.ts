/**
 * The market's job state in its own SQLite database (WAL, numbered migrations like the agent's):
 * jobs, every offer with its decision, the usage reports and vouchers relayed. Restarting the
 * market on the same file keeps the jobs.
 */
import { openDatabase, type Db, type Migration } from '../runtime/storage/database.js';
import { jobRequestSchema, type JobRequest, type MarketJobState, type MarketJobView, type UsageReport } from '../runtime/market/protocol.js';
import type { SignedVoucher } from '../runtime/wallet/schema.js';

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
];

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
}

export const ENDED_STATES: ReadonlySet<MarketJobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed-out', 'preempted', 'unpaid', 'market-unreachable', 'expired']);

function fromRow(r: JobRow): StoredJob {
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
  };
}

export function jobView(j: StoredJob): MarketJobView {
  return {
    jobId: j.id,
    state: j.state,
    reason: j.reason,
    buyer: j.buyer,
    provider: j.provider,
    image: j.request.image,
    gpus: j.request.gpus,
    pricePerHour: j.request.pricePerHour,
    usageSeconds: j.usageSeconds,
    paid: j.paid,
    submittedAt: j.submittedAt,
    endedAt: j.endedAt,
    offers: j.offers,
  };
}

export class MarketStore {
  readonly db: Db;
  private readonly q;

  constructor(file: string) {
    this.db = openDatabase(file, marketMigrations);
    const db = this.db;
    this.q = {
      insertJob: db.prepare('INSERT INTO jobs (id, buyer, request, state, submitted_at) VALUES (?, ?, ?, ?, ?)'),
      updateJob: db.prepare(
        'UPDATE jobs SET state = @state, reason = @reason, detail = @detail, provider = @provider, usage_seconds = @usageSeconds, last_seq = @lastSeq, exit_code = @exitCode, offers = @offers, ended_at = @endedAt WHERE id = @id',
      ),
      job: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      active: db.prepare(`SELECT * FROM jobs WHERE ended_at IS NULL ORDER BY submitted_at, rowid`),
      recent: db.prepare('SELECT * FROM jobs ORDER BY submitted_at DESC, rowid DESC LIMIT ?'),
      insertOffer: db.prepare('INSERT INTO offers (id, job_id, provider, offered_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      decideOffer: db.prepare('UPDATE offers SET decision = ?, reason = ?, detail = ?, decided_at = ? WHERE id = ? AND decision IS NULL'),
      offersOf: db.prepare('SELECT id, provider, offered_at AS offeredAt, expires_at AS expiresAt, decision, reason, detail, decided_at AS decidedAt FROM offers WHERE job_id = ? ORDER BY offered_at, rowid'),
      insertUsage: db.prepare('INSERT OR IGNORE INTO usage_reports (job_id, seq, usage_seconds, amount_due, final, provider, report, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insertVoucher: db.prepare('INSERT INTO vouchers (job_id, cumulative, voucher, received_at) VALUES (?, ?, ?, ?)'),
      setPaid: db.prepare('UPDATE jobs SET paid = ?, last_voucher = ? WHERE id = ?'),
    };
  }

  insertJob(id: string, buyer: string, request: JobRequest, at: number): void {
    this.q.insertJob.run(id, buyer, JSON.stringify(request), 'queued', at);
  }

  saveJob(j: StoredJob): void {
    this.q.updateJob.run({ id: j.id, state: j.state, reason: j.reason, detail: j.detail, provider: j.provider, usageSeconds: j.usageSeconds, lastSeq: j.lastSeq, exitCode: j.exitCode, offers: j.offers, endedAt: j.endedAt });
  }

  job(id: string): StoredJob | null {
    const row = this.q.job.get(id) as JobRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** Jobs not ended, oldest first: what a restarted market picks up again. */
  activeJobs(): StoredJob[] {
    return (this.q.active.all() as JobRow[]).map(fromRow);
  }

  recentJobs(limit: number): StoredJob[] {
    return (this.q.recent.all(limit) as JobRow[]).map(fromRow);
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

  insertUsage(r: UsageReport, at: number): void {
    this.q.insertUsage.run(r.jobId, r.seq, r.usageSeconds, r.amountDue, r.final ? 1 : 0, r.provider, JSON.stringify(r), at);
  }

  insertVoucher(jobId: string, signed: SignedVoucher, at: number): void {
    this.db.transaction(() => {
      this.q.insertVoucher.run(jobId, signed.voucher.cumulativeAmount, JSON.stringify(signed), at);
      this.q.setPaid.run(signed.voucher.cumulativeAmount, JSON.stringify(signed), jobId);
    })();
  }

  close(): void {
    this.db.close();
  }
}
