import type { Migration } from './migration.js';

/**
 * Marketplace jobs on the provider's side (runtime/market): one row a market job this agent took,
 * linking the market's job id to the local job and holding what the money checks need after a
 * restart (buyer, price, chain, the best valid voucher so far). Offers are kept for the
 * dashboard's list of decisions (the newest few hundred).
 */
export const market004: Migration = {
  version: 4,
  name: 'market',
  sql: `
    CREATE TABLE market_jobs (
      job_id TEXT PRIMARY KEY,
      local_job_id TEXT NOT NULL UNIQUE,
      market_url TEXT NOT NULL,
      buyer TEXT NOT NULL,
      price_per_hour TEXT NOT NULL,
      report_interval_s INTEGER NOT NULL,
      chain_id INTEGER NOT NULL,
      escrow TEXT NOT NULL,
      accepted_at INTEGER NOT NULL,
      report_seq INTEGER NOT NULL DEFAULT 0,
      reported_seconds INTEGER NOT NULL DEFAULT 0,
      paid_up_to TEXT NOT NULL DEFAULT '0',
      last_voucher_at INTEGER,
      voucher_problem TEXT,
      ended_at INTEGER,
      end_state TEXT,
      end_reason TEXT,
      final_sent INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX market_jobs_open ON market_jobs(final_sent);

    CREATE TABLE market_offers (
      offer_id TEXT PRIMARY KEY,
      job_id TEXT NOT NULL,
      at INTEGER NOT NULL,
      buyer TEXT NOT NULL,
      image TEXT NOT NULL,
      gpus INTEGER NOT NULL,
      price_per_hour TEXT NOT NULL,
      max_duration_s INTEGER NOT NULL,
      accepted INTEGER NOT NULL,
      reason TEXT,
      detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX market_offers_by_time ON market_offers(at);
  `,
};
