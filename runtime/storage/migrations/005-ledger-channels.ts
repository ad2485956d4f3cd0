import type { Migration } from './migration.js';

/**
 * The ledger keyed by payment channel, and refused vouchers kept apart (issue 16).
 *
 * - ledger_earnings is rebuilt with UNIQUE (chain_id, escrow, buyer, provider, market_job_id):
 *   the escrow pays per channel, so a voucher of another buyer for the same job id can never
 *   be merged into a job's row. Rows from before (buyer and provider unknown until a voucher
 *   came) keep '' until their channel's next record adopts them. The totals and buckets are
 *   unchanged: the rows are copied as they are, and the triggers (the same as 003's) recreated.
 * - ledger_refused_vouchers: every voucher that failed a check, with why; never summed.
 * - ledger_vouchers.checked_at: when the check passed (NULL for vouchers stored before it, which
 *   runtime/ledger/legacy-vouchers.ts checks again once).
 * - ledger_usage_reports gain buyer and provider, so a report lands on its channel's row.
 * - market_jobs.channel_paid_before: what the escrow had paid the job's channel before the job
 *   (read at acceptance or at its first voucher): a voucher pays the job only beyond it.
 */
const PARTS = ['earned', 'pending', 'redeemable', 'redeemed', 'expired'] as const;
const BUCKET_PARTS = ['earned', 'redeemed'] as const;
const BUCKET_MS = 900_000;

const cols = (parts: readonly string[]) => parts.flatMap((p) => [`${p}_hi`, `${p}_lo`]);
const intCols = (parts: readonly string[]) => cols(parts).map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(',\n      ');
const delta = (parts: readonly string[], sign: '+' | '-', row: 'NEW' | 'OLD') => cols(parts).map((c) => `${c} = ${c} ${sign} ${row}.${c}`).join(', ');
const bucketUpsert = (row: 'NEW' | 'OLD', sign: '+' | '-') => `
      INSERT INTO ledger_buckets (bucket, jobs, ${cols(BUCKET_PARTS).join(', ')})
        VALUES (${row}.at / ${BUCKET_MS}, ${sign}1, ${cols(BUCKET_PARTS).map((c) => `${sign}${row}.${c}`).join(', ')})
        ON CONFLICT(bucket) DO UPDATE SET jobs = jobs ${sign} 1, ${delta(BUCKET_PARTS, sign, row).replaceAll(`${row}.`, 'excluded.').replaceAll(`${sign} excluded`, '+ excluded')};`;

const EARNINGS_COLUMNS = ['id', 'chain_id', 'escrow', 'market_job_id', 'job_id', 'buyer', 'provider', 'at', 'owed', 'vouched', 'paid', 'expiry', 'status', 'redeem_tx', 'redeem_block', ...cols(PARTS)];

export const ledgerChannels005: Migration = {
  version: 5,
  name: 'ledger-channels',
  sql: `
    CREATE TABLE ledger_refused_vouchers (
      id INTEGER PRIMARY KEY,
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      buyer TEXT NOT NULL,
      provider TEXT NOT NULL,
      market_job_id TEXT NOT NULL,
      cumulative_amount TEXT NOT NULL,
      expiry INTEGER NOT NULL,
      signature TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      expected_buyer TEXT,
      expected_job_id TEXT,
      kind TEXT NOT NULL,
      reason TEXT NOT NULL
    ) STRICT;
    CREATE INDEX ledger_refused_by_time ON ledger_refused_vouchers(received_at);
    CREATE INDEX ledger_refused_by_kind ON ledger_refused_vouchers(kind, chain_id, escrow);

    ALTER TABLE ledger_vouchers ADD COLUMN checked_at INTEGER;
    CREATE INDEX ledger_vouchers_unchecked ON ledger_vouchers(id) WHERE checked_at IS NULL;
    CREATE INDEX ledger_vouchers_by_full_channel ON ledger_vouchers(chain_id, escrow, buyer, provider, market_job_id);
    ALTER TABLE ledger_usage_reports ADD COLUMN buyer TEXT;
    ALTER TABLE ledger_usage_reports ADD COLUMN provider TEXT;
    ALTER TABLE market_jobs ADD COLUMN channel_paid_before TEXT;

    CREATE TABLE ledger_earnings_by_channel (
      id INTEGER PRIMARY KEY,
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      market_job_id TEXT NOT NULL,
      job_id TEXT,
      buyer TEXT NOT NULL DEFAULT '',
      provider TEXT NOT NULL DEFAULT '',
      at INTEGER NOT NULL,
      owed TEXT NOT NULL DEFAULT '0',
      vouched TEXT NOT NULL DEFAULT '0',
      paid TEXT NOT NULL DEFAULT '0',
      expiry INTEGER,
      status TEXT NOT NULL CHECK (status IN ('pending', 'redeemable', 'redeemed', 'expired')),
      redeem_tx TEXT,
      redeem_block INTEGER,
      ${intCols(PARTS)},
      UNIQUE (chain_id, escrow, buyer, provider, market_job_id)
    ) STRICT;
    INSERT INTO ledger_earnings_by_channel (${EARNINGS_COLUMNS.join(', ')})
      SELECT ${EARNINGS_COLUMNS.map((c) => (c === 'buyer' || c === 'provider' ? `COALESCE(${c}, '')` : c)).join(', ')} FROM ledger_earnings;
    DROP TABLE ledger_earnings;
    ALTER TABLE ledger_earnings_by_channel RENAME TO ledger_earnings;
    CREATE INDEX ledger_earnings_by_at ON ledger_earnings(at);
    CREATE INDEX ledger_earnings_by_status ON ledger_earnings(status, expiry);
    CREATE INDEX ledger_earnings_by_market_job ON ledger_earnings(market_job_id);
    CREATE INDEX ledger_earnings_by_buyer ON ledger_earnings(chain_id, escrow, buyer);

    CREATE TRIGGER ledger_earnings_ai AFTER INSERT ON ledger_earnings BEGIN
      UPDATE ledger_totals SET jobs = jobs + 1, ${delta(PARTS, '+', 'NEW')} WHERE id = 1;
      ${bucketUpsert('NEW', '+')}
    END;
    CREATE TRIGGER ledger_earnings_ad AFTER DELETE ON ledger_earnings BEGIN
      UPDATE ledger_totals SET jobs = jobs - 1, ${delta(PARTS, '-', 'OLD')} WHERE id = 1;
      ${bucketUpsert('OLD', '-')}
    END;
    CREATE TRIGGER ledger_earnings_au AFTER UPDATE ON ledger_earnings BEGIN
      UPDATE ledger_totals SET ${delta(PARTS, '-', 'OLD')} WHERE id = 1;
      UPDATE ledger_totals SET ${delta(PARTS, '+', 'NEW')} WHERE id = 1;
      ${bucketUpsert('OLD', '-')}
      ${bucketUpsert('NEW', '+')}
    END;
  `,
};
