import type { Migration } from './migration.js';

/**
 * Jobs: one row a job with its current state and reason, every state change in job_events,
 * and the GPUs a job ran on in job_gpus (so earnings by GPU need no JSON scans).
 * Times are unix milliseconds.
 */
export const jobs002: Migration = {
  version: 2,
  name: 'jobs',
  sql: `
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      market_job_id TEXT,
      spec TEXT NOT NULL,
      state TEXT NOT NULL,
      reason TEXT NOT NULL,
      detail TEXT NOT NULL DEFAULT '',
      state_changed_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      ended_at INTEGER,
      exit_code INTEGER,
      oom_killed INTEGER NOT NULL DEFAULT 0,
      container_id TEXT,
      log_tail TEXT NOT NULL DEFAULT '',
      log_dropped_bytes INTEGER NOT NULL DEFAULT 0,
      usage TEXT
    ) STRICT;
    CREATE INDEX jobs_by_created ON jobs(created_at);
    CREATE INDEX jobs_by_state ON jobs(state);
    CREATE INDEX jobs_by_market_job ON jobs(market_job_id);

    CREATE TABLE job_events (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      at INTEGER NOT NULL,
      state TEXT NOT NULL,
      reason TEXT NOT NULL,
      detail TEXT NOT NULL DEFAULT ''
    ) STRICT;
    CREATE INDEX job_events_by_job ON job_events(job_id, at);

    CREATE TABLE job_gpus (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      gpu_key TEXT NOT NULL,
      PRIMARY KEY (job_id, gpu_key)
    ) STRICT;
    CREATE INDEX job_gpus_by_gpu ON job_gpus(gpu_key);
  `,
};
