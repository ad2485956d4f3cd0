/** Pure helpers of the Jobs page: merging job updates, a capped live log, durations. */
import type { JobState, JobSummary } from '../../../runtime/jobs/schema.js';

/** How much live log the page keeps for the open job: a long log must not freeze the page. */
export const LIVE_LOG_CAP_CHARS = 200_000;

/** Replaces (or adds, newest first) a job in the list. */
export function mergeJob(jobs: readonly JobSummary[], job: JobSummary): JobSummary[] {
  const i = jobs.findIndex((j) => j.id === job.id);
  if (i === -1) return [job, ...jobs];
  const next = jobs.slice();
  next[i] = job;
  return next;
}

/** Appends to the live log, keeping only the newest `cap` characters (cut at a line start). */
export function appendLog(current: string, text: string, cap = LIVE_LOG_CAP_CHARS): { text: string; trimmed: boolean } {
  const all = current + text;
  if (all.length <= cap) return { text: all, trimmed: false };
  let cut = all.slice(all.length - cap);
  const nl = cut.indexOf('\n');
  if (nl !== -1 && nl < cut.length - 1) cut = cut.slice(nl + 1);
  return { text: cut, trimmed: true };
}

export function jobDuration(job: Pick<JobSummary, 'startedAt' | 'endedAt'>, now: number): string {
  if (job.startedAt === null) return '—';
  const ms = Math.max(0, (job.endedAt ?? now) - job.startedAt);
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const STATE_TONE: Record<JobState, 'ok' | 'info' | 'warn' | 'fail' | 'dim'> = {
  queued: 'dim',
  pulling: 'info',
  starting: 'info',
  running: 'info',
  paused: 'warn',
  stopping: 'warn',
  succeeded: 'ok',
  failed: 'fail',
  cancelled: 'dim',
  'timed-out': 'fail',
  preempted: 'warn',
};
export function stateTone(state: JobState): 'ok' | 'info' | 'warn' | 'fail' | 'dim' {
  return STATE_TONE[state];
}

export function canCancel(state: JobState): boolean {
  return ['queued', 'pulling', 'starting', 'running', 'paused'].includes(state);
}

export function limitsLine(job: Pick<JobSummary, 'spec'>): string {
  const s = job.spec;
  const net = s.network === 'none' ? 'no network' : `network: ${s.network.allow.join(', ')}`;
  return `${s.cpus} CPU · ${s.memoryMiB} MiB memory · ${s.diskMiB} MiB scratch · ${s.shmMiB} MiB shm · max ${s.timeoutSeconds} s · ${net}`;
}
