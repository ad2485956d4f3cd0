import type { Migration } from './migration.js';

/**
 * The earnings ledger (runtime/ledger). Built on the jobs tables of 002 (read, never changed).
 *
 * - ledger_usage_reports, ledger_vouchers, ledger_redemptions, ledger_withdrawals: the record,
 *   amounts as decimal TEXT of base units.
 * - ledger_earnings: one row a job (a payment channel buyer → provider for one marketplace job),
 *   with what is owed, vouched and paid, and the same split by status into hi/lo INTEGER pairs
 *   (see runtime/ledger/amount.ts) that SQL can add exactly.
 * - ledger_totals (one row) and ledger_buckets (15-minute buckets of the job's time, so days in any
 *   time zone can be built from them) are kept up to date by the triggers below: the
 *   all-time totals and "by day" queries read a handful of rows, never the million jobs.
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

export const ledger003: Migration = {
  version: 3,
  name: 'ledger',
  sql: `
    CREATE TABLE ledger_usage_reports (
      id INTEGER PRIMARY KEY,
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      market_job_id TEXT NOT NULL,
      reported_at INTEGER NOT NULL,
      amount TEXT NOT NULL,
      usage TEXT
    ) STRICT;
    CREATE INDEX ledger_usage_by_job ON ledger_usage_reports(market_job_id);

    CREATE TABLE ledger_vouchers (
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
      status TEXT NOT NULL CHECK (status IN ('redeemable', 'redeemed', 'expired')),
      submitted_tx TEXT,
      submitted_at INTEGER,
      redeem_tx TEXT,
      redeem_block INTEGER,
      UNIQUE (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature)
    ) STRICT;
    CREATE INDEX ledger_vouchers_by_channel ON ledger_vouchers(chain_id, escrow, market_job_id);
    CREATE INDEX ledger_vouchers_by_status ON ledger_vouchers(status, expiry);

    CREATE TABLE ledger_redemptions (
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      tx_hash TEXT NOT NULL,
      log_index INTEGER NOT NULL,
      block_number INTEGER NOT NULL,
      block_time INTEGER NOT NULL,
      buyer TEXT NOT NULL,
      provider TEXT NOT NULL,
      market_job_id TEXT NOT NULL,
      amount TEXT NOT NULL,
      cumulative TEXT NOT NULL,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    ) STRICT;
    CREATE INDEX ledger_redemptions_by_job ON ledger_redemptions(chain_id, escrow, market_job_id);

    CREATE TABLE ledger_withdrawals (
      id INTEGER PRIMARY KEY,
      chain_id INTEGER NOT NULL,
      token TEXT NOT NULL,
      from_address TEXT NOT NULL,
      to_address TEXT NOT NULL,
      amount TEXT NOT NULL,
      amount_hi INTEGER NOT NULL,
      amount_lo INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('sent', 'confirmed', 'failed')),
      tx_hash TEXT NOT NULL,
      block_number INTEGER,
      created_at INTEGER NOT NULL,
      error TEXT
    ) STRICT;

    CREATE TABLE ledger_sync (
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      provider TEXT NOT NULL,
      last_block INTEGER NOT NULL,
      synced_at INTEGER NOT NULL,
      PRIMARY KEY (chain_id, escrow, provider)
    ) STRICT;

    CREATE TABLE ledger_earnings (
      id INTEGER PRIMARY KEY,
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      market_job_id TEXT NOT NULL,
      job_id TEXT,
      buyer TEXT,
      provider TEXT,
      at INTEGER NOT NULL,
      owed TEXT NOT NULL DEFAULT '0',
      vouched TEXT NOT NULL DEFAULT '0',
      paid TEXT NOT NULL DEFAULT '0',
      expiry INTEGER,
      status TEXT NOT NULL CHECK (status IN ('pending', 'redeemable', 'redeemed', 'expired')),
      redeem_tx TEXT,
      redeem_block INTEGER,
      ${intCols(PARTS)},
      UNIQUE (chain_id, escrow, market_job_id)
    ) STRICT;
    CREATE INDEX ledger_earnings_by_at ON ledger_earnings(at);
    CREATE INDEX ledger_earnings_by_status ON ledger_earnings(status, expiry);
    CREATE INDEX ledger_earnings_by_market_job ON ledger_earnings(market_job_id);

    CREATE TABLE ledger_totals (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      jobs INTEGER NOT NULL DEFAULT 0,
      ${intCols(PARTS)}
    ) STRICT;
    INSERT INTO ledger_totals (id) VALUES (1);

    CREATE TABLE ledger_buckets (
      bucket INTEGER PRIMARY KEY,
      jobs INTEGER NOT NULL DEFAULT 0,
      ${intCols(BUCKET_PARTS)}
    ) STRICT;

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
