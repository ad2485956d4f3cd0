/** The market database's numbered migrations (applied in order by openDatabase, like the agent's). */
import type { Migration } from '../runtime/storage/database.js';

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
  {
    // Revision 3: the provider's payout address, which the attempt's vouchers pay (protocol/payout.ts).
    version: 3,
    name: 'market-payee',
    sql: `ALTER TABLE jobs ADD COLUMN payee TEXT;`,
  },
];
