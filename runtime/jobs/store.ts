/**
 * Job records in the agent's SQLite database (migration 002): the current state with its
 * reason and time in `jobs`, every change in `job_events`, the GPUs in `job_gpus`.
 */
import crypto from 'node:crypto';
import type { Db } from '../storage/database.js';
import { jobSpecSchema, jobSpecSummarySchema, jobUsageSchema, JOBS_PAGE, type Job, type JobSummary, type JobSpec, type JobState, type JobUsage } from './schema.js';
import { prepared } from '../storage/prepared.js';

interface JobRow {
  id: string;
  market_job_id: string | null;
  spec: string;
  state: string;
  reason: string;
  detail: string;
  state_changed_at: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  oom_killed: number;
  container_id: string | null;
  log_tail: string;
  log_dropped_bytes: number;
  usage: string | null;
}

export interface JobEventRow {
  at: number;
  state: JobState;
  reason: string;
  detail: string;
}

export interface JobPatch {
  startedAt?: number;
  endedAt?: number;
  exitCode?: number | null;
  oomKilled?: boolean;
  containerId?: string | null;
  logTail?: string;
  logDroppedBytes?: number;
  usage?: JobUsage;
}

const INSTANCE_KEY = 'jobs.agentInstance';

export class JobStore {
  constructor(private readonly db: Db) {}

  /** This data folder's agent identity, stamped on its containers (io.offshift.agent). */
  agentInstance(): string {
    const row = prepared(this.db, 'SELECT value FROM kv WHERE key = ?').get(INSTANCE_KEY) as { value: string } | undefined;
    if (row) return row.value;
    const value = crypto.randomBytes(8).toString('hex');
    prepared(this.db, 'INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)').run(INSTANCE_KEY, value);
    return (prepared(this.db, 'SELECT value FROM kv WHERE key = ?').get(INSTANCE_KEY) as { value: string }).value;
  }

  insert(spec: JobSpec, gpuKeys: readonly string[], at: number, reason: string, detail: string): Job {
    this.db.transaction(() => {
      prepared(
        this.db,
        `INSERT INTO jobs (id, market_job_id, spec, state, reason, detail, state_changed_at, created_at)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
      ).run(spec.id, spec.marketJobId ?? null, JSON.stringify(spec), reason, detail, at, at);
      prepared(this.db, 'INSERT INTO job_events (job_id, at, state, reason, detail) VALUES (?, ?, ?, ?, ?)').run(spec.id, at, 'queued', reason, detail);
      const insertGpu = prepared(this.db, 'INSERT INTO job_gpus (job_id, gpu_key) VALUES (?, ?)');
      for (const key of gpuKeys) insertGpu.run(spec.id, key);
    })();
    return this.get(spec.id)!;
  }

  exists(id: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM jobs WHERE id = ?').get(id) !== undefined;
  }

  transition(id: string, state: JobState, reason: string, detail: string, at: number, patch: JobPatch = {}): Job {
    this.db.transaction(() => {
      prepared(this.db, 'UPDATE jobs SET state = ?, reason = ?, detail = ?, state_changed_at = ? WHERE id = ?').run(state, reason, detail, at, id);
      prepared(this.db, 'INSERT INTO job_events (job_id, at, state, reason, detail) VALUES (?, ?, ?, ?, ?)').run(id, at, state, reason, detail);
      this.applyPatch(id, patch);
    })();
    return this.get(id)!;
  }

  update(id: string, patch: JobPatch): void {
    this.applyPatch(id, patch);
  }

  private applyPatch(id: string, patch: JobPatch): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    const add = (column: string, value: unknown) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.startedAt !== undefined) add('started_at', patch.startedAt);
    if (patch.endedAt !== undefined) add('ended_at', patch.endedAt);
    if (patch.exitCode !== undefined) add('exit_code', patch.exitCode);
    if (patch.oomKilled !== undefined) add('oom_killed', patch.oomKilled ? 1 : 0);
    if (patch.containerId !== undefined) add('container_id', patch.containerId);
    if (patch.logTail !== undefined) add('log_tail', patch.logTail);
    if (patch.logDroppedBytes !== undefined) add('log_dropped_bytes', patch.logDroppedBytes);
    if (patch.usage !== undefined) add('usage', JSON.stringify(patch.usage));
    if (!sets.length) return;
    prepared(this.db, `UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  get(id: string): Job | null {
    const row = prepared(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? this.toJob(row) : null;
  }

  containerId(id: string): string | null {
    const row = prepared(this.db, 'SELECT container_id FROM jobs WHERE id = ?').get(id) as { container_id: string | null } | undefined;
    return row?.container_id ?? null;
  }

  list(limit = 200): Job[] {
    const rows = prepared(this.db, 'SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as JobRow[];
    return rows.map((r) => this.toJob(r));
  }

  /**
   * One page of the list, newest first, as summaries: the command, the env and the log tail
   * stay in the database (SQLite drops them before they reach JavaScript).
   */
  page(limit: number, offset: number): { jobs: JobSummary[]; total: number } {
    const rows = prepared(
      this.db,
      `SELECT id, market_job_id, json_remove(spec, '$.command', '$.env') AS spec, state, reason, detail, state_changed_at, created_at,
              started_at, ended_at, exit_code, oom_killed, log_dropped_bytes, usage
       FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`,
    ).all(limit, offset) as Omit<JobRow, 'log_tail' | 'container_id'>[];
    const total = (prepared(this.db, 'SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    return {
      total,
      jobs: rows.map(({ spec, ...row }) => {
        const raw: unknown = JSON.parse(spec);
        const parsed = jobSpecSummarySchema.safeParse(raw);
        return { ...this.fields(row), spec: parsed.success ? parsed.data : (raw as JobSummary['spec']) };
      }),
    };
  }

  /** Jobs not in a final state: what recovery must account for. */
  unfinished(): Job[] {
    const rows = prepared(this.db, `SELECT * FROM jobs WHERE state NOT IN ('succeeded','failed','cancelled','timed-out','preempted') ORDER BY created_at`)
      .all() as JobRow[];
    return rows.map((r) => this.toJob(r));
  }

  events(id: string): JobEventRow[] {
    return prepared(this.db, 'SELECT at, state, reason, detail FROM job_events WHERE job_id = ? ORDER BY at, rowid').all(id) as JobEventRow[];
  }

  private toJob(row: JobRow): Job {
    return { ...this.fields(row), spec: storedSpec(row.spec), logTail: row.log_tail };
  }

  /** Everything of a record but its spec and log tail. */
  private fields(row: Omit<JobRow, 'spec' | 'log_tail' | 'container_id'>): Omit<Job, 'spec' | 'logTail'> {
    const gpus = (prepared(this.db, 'SELECT gpu_key FROM job_gpus WHERE job_id = ? ORDER BY rowid').all(row.id) as { gpu_key: string }[]).map((r) => r.gpu_key);
    return {
      id: row.id,
      marketJobId: row.market_job_id,
      state: row.state as JobState,
      reason: row.reason,
      detail: row.detail,
      stateChangedAt: row.state_changed_at,
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      exitCode: row.exit_code,
      oomKilled: row.oom_killed === 1,
      gpus,
      logDroppedBytes: row.log_dropped_bytes,
      usage: row.usage ? jobUsageSchema.parse(JSON.parse(row.usage)) : null,
    };
  }
}

/** One page of jobs.list (newest first, summaries) and where the next begins. */
export function listPage(store: JobStore, limit: number = JOBS_PAGE.defaultLimit, offset = 0): { jobs: JobSummary[]; total: number; nextOffset: number | null } {
  const page = store.page(limit, offset);
  const end = offset + page.jobs.length;
  return { ...page, nextOffset: end < page.total && page.jobs.length > 0 ? end : null };
}

/**
 * A stored spec passed the schema of the version that stored it. One a later, stricter schema
 * refuses (an allow-list port above 65535, say) is kept as it was, so that its record can still
 * be listed and ended: the parts that use it (the egress proxy) check it again themselves.
 */
function storedSpec(text: string): Job['spec'] {
  const raw: unknown = JSON.parse(text);
  const parsed = jobSpecSchema.safeParse(raw);
  return parsed.success ? parsed.data : (raw as Job['spec']);
}

/** How long a job has run (pauses excluded) from its recorded state changes: for re-adoption. */
export function ranMsFromEvents(events: readonly Pick<JobEventRow, 'at' | 'state'>[], now: number): number {
  let total = 0;
  let since: number | null = null;
  for (const e of events) {
    if (e.state === 'running') {
      if (since === null) since = e.at;
    } else if (since !== null) {
      total += e.at - since;
      since = null;
    }
  }
  if (since !== null) total += Math.max(0, now - since);
  return total;
}
