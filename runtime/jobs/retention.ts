/**
 * Retention: finished jobs' folders (<home>/jobs/<id>: the collected output, the log, the staged
 * inputs) are removed by age and by total size, oldest first, at start and every RETENTION_INTERVAL_MS.
 * Never touched: a job still in hand (running, or its output still being collected), a
 * marketplace job whose output and ending the market has not received yet, a folder with
 * anything mounted in it, a folder this agent has no job record for. The job's record stays
 * (with its last log lines); the removal is recorded so the job view can say what happened.
 * The plan is pure (planRetention); the rest is the disk and the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import { retentionRemovalSchema, type RetentionRemoval, type RetentionRule, type RetentionSettings, type RetentionView } from './retention-schema.js';
import { finalJobStates } from './schema.js';

export const RETENTION_INTERVAL_MS = 10 * 60_000;
const DAY_MS = 24 * 3600_000;
const MiB = 1024 * 1024;
/** kv keys: one a removed job (its RetentionRemoval as JSON). */
const REMOVED_KEY = 'jobs.retention.removed.';

export interface RetentionCandidate {
  id: string;
  /** When the job ended (null: not ended). */
  endedAt: number | null;
  bytes: number;
  /** Whether retention may remove it now (see the file's comment). */
  removable: boolean;
}

export interface PlannedRemoval {
  id: string;
  rule: RetentionRule;
  bytes: number;
}

/**
 * What to remove: every removable folder older than the age limit, then, while all folders
 * together (held ones included) are over the size limit, the oldest removable ones. Pure.
 */
export function planRetention(candidates: readonly RetentionCandidate[], rule: RetentionSettings, now: number): PlannedRemoval[] {
  const oldestFirst = candidates.filter((c) => c.removable && c.endedAt !== null).sort((a, b) => a.endedAt! - b.endedAt! || (a.id < b.id ? -1 : 1));
  const out: PlannedRemoval[] = [];
  let total = candidates.reduce((n, c) => n + c.bytes, 0);
  const cutoff = now - rule.maxAgeDays * DAY_MS;
  const maxBytes = rule.maxTotalMiB * MiB;
  for (const c of oldestFirst) {
    if (c.endedAt! < cutoff) out.push({ id: c.id, rule: 'age', bytes: c.bytes });
    else if (total > maxBytes) out.push({ id: c.id, rule: 'size', bytes: c.bytes });
    else break;
    total -= c.bytes;
  }
  return out;
}

export interface RetentionOptions {
  db: Db;
  home: string;
  log: Logger;
  settings: () => RetentionSettings;
  /** The runner still has this job in hand (running, stopping, its output being collected). */
  inHand: (id: string) => boolean;
  now?: () => number;
}

export type RetentionUsage = RetentionView['usage'];
export type RetentionRun = NonNullable<RetentionView['lastRun']>;

export class Retention {
  private readonly now: () => number;
  /** Sizes of finished, removable folders (they no longer change). */
  private readonly sizes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionRun> | null = null;
  lastRun: RetentionRun | null = null;

  constructor(private readonly o: RetentionOptions) {
    this.now = o.now ?? Date.now;
  }

  private get jobsDir(): string {
    return path.join(this.o.home, 'jobs');
  }

  /** Applies the rule now, then every `intervalMs` (the timer does not hold the process). */
  start(intervalMs = RETENTION_INTERVAL_MS): void {
    this.stop();
    const tick = () => void this.run().catch((error: unknown) => this.o.log.warn('applying the retention rule failed; it is tried again later', { error }));
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Applies the rule once (a run already under way is joined, not doubled). */
  run(): Promise<RetentionRun> {
    this.running ??= Promise.resolve()
      .then(() => this.apply())
      .finally(() => (this.running = null));
    return this.running;
  }

  private apply(): RetentionRun {
    const candidates = this.candidates();
    const plan = planRetention(candidates, this.o.settings(), this.now());
    let removedJobs = 0;
    let freedBytes = 0;
    for (const p of plan) {
      const dir = path.join(this.jobsDir, p.id);
      // An output tmpfs left mounted (an agent killed as a job ended): recovery collects it first.
      if (hasMount(dir)) continue;
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        this.o.log.warn('retention could not remove a job folder; it is tried again later', { id: p.id, error });
        continue;
      }
      this.sizes.delete(p.id);
      this.record(p.id, { at: this.now(), rule: p.rule, bytes: p.bytes });
      removedJobs++;
      freedBytes += p.bytes;
    }
    if (removedJobs) this.o.log.info('retention removed finished jobs\' folders', { removedJobs, freedBytes, rule: this.o.settings() });
    this.lastRun = { at: this.now(), removedJobs, freedBytes };
    return this.lastRun;
  }

  /** Every job folder this agent has a record for, with its size and whether it may go. */
  private candidates(): RetentionCandidate[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.jobsDir);
    } catch {
      return [];
    }
    const final = new Set<string>(finalJobStates);
    const byId = this.o.db.prepare<[string], { state: string; ended_at: number | null; state_changed_at: number }>('SELECT state, ended_at, state_changed_at FROM jobs WHERE id = ?');
    const unsent = this.unsentMarketJobs();
    const out: RetentionCandidate[] = [];
    for (const id of names) {
      const row = byId.get(id);
      if (!row) continue;
      const ended = final.has(row.state);
      // A final record always has its end time; should one lack it, the time it became final will do.
      const endedAt = ended ? (row.ended_at ?? row.state_changed_at) : null;
      const removable = ended && !this.o.inHand(id) && !unsent.has(id);
      let bytes = removable ? this.sizes.get(id) : undefined;
      if (bytes === undefined) {
        bytes = folderBytes(path.join(this.jobsDir, id));
        if (removable) this.sizes.set(id, bytes);
      }
      out.push({ id, endedAt, bytes, removable });
    }
    return out;
  }

  /** Local ids of marketplace jobs whose output and ending the market has not received. */
  private unsentMarketJobs(): Set<string> {
    try {
      return new Set(this.o.db.prepare<[], { id: string }>('SELECT local_job_id AS id FROM market_jobs WHERE final_sent = 0').all().map((r) => r.id));
    } catch {
      // No marketplace table in this database: no marketplace jobs.
      return new Set();
    }
  }

  usage(): RetentionUsage {
    const all = this.candidates();
    const held = all.filter((c) => !c.removable);
    const ended = all.map((c) => c.endedAt).filter((t): t is number => t !== null);
    return {
      bytes: all.reduce((n, c) => n + c.bytes, 0),
      jobs: all.length,
      heldBytes: held.reduce((n, c) => n + c.bytes, 0),
      heldJobs: held.length,
      oldestEndedAt: ended.length ? Math.min(...ended) : null,
    };
  }

  /** When and why retention removed this job's folder; null when it did not. */
  removal(id: string): RetentionRemoval | null {
    const row = this.o.db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?').get(REMOVED_KEY + id);
    if (!row) return null;
    try {
      const parsed = retentionRemovalSchema.safeParse(JSON.parse(row.value));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private record(id: string, removal: RetentionRemoval): void {
    this.o.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(REMOVED_KEY + id, JSON.stringify(removal));
  }
}

/** Bytes of the regular files under `dir` (links not followed, not counted). */
export function folderBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += fs.lstatSync(p).size;
        } catch {}
      }
    }
  };
  walk(dir);
  return total;
}

/** Whether anything is mounted at or under `dir` (a job's output tmpfs): such a folder is never removed. */
function hasMount(dir: string): boolean {
  if (process.platform !== 'linux') return false;
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const real = (() => {
    try {
      return fs.realpathSync(dir);
    } catch {
      return dir;
    }
  })();
  for (const line of text.split('\n')) {
    // The fifth field is the mount point, with spaces and such as octal escapes.
    const point = line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point && (point === real || point.startsWith(real + '/'))) return true;
  }
  return false;
}
