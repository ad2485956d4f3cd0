/**
 * A job's life on the market: its state changes, its end, its preemption (placed again while
 * attempts and time are left), and the queue timeout that ends a job no provider takes.
 */
import type { MarketJobState } from '../protocol/index.js';
import { closeOffer, offerNext, scheduleRematch } from './offers.js';
import { attemptEndedMessage, toBuyer } from './relay.js';
import type { ActiveJob, JobEnd, MarketState, ProviderEntry } from './state.js';
import { ENDED_STATES, type AttemptRecord } from './job-records.js';

export function setState(m: MarketState, job: ActiveJob, state: MarketJobState, reason: string, detail: string): void {
  job.state = state;
  job.reason = reason;
  job.detail = detail;
  m.store.saveJob(job);
  toBuyer(m, job, { type: 'job-update', jobId: job.id, state, provider: job.provider, reason, detail });
}

export function endJob(m: MarketState, job: ActiveJob, end: JobEnd): void {
  if (ENDED_STATES.has(job.state)) return;
  stopQueueTimer(job);
  m.closeForBuyer(job);
  if (job.offer) closeOffer(m, job, 'withdrawn', 'job-ended', 'The job ended.', true, false);
  job.state = end.state;
  job.reason = end.reason;
  job.detail = end.detail;
  job.usageSeconds = Math.max(job.usageSeconds, end.usageSeconds);
  job.exitCode = end.exitCode;
  job.endedAt = m.now();
  m.store.saveJob(job);
  if (job.provider) m.providers.get(job.provider)?.running.delete(job.id);
  toBuyer(m, job, { type: 'job-ended', end: { jobId: job.id, state: job.state, reason: job.reason, detail: job.detail, usageSeconds: job.usageSeconds, exitCode: job.exitCode }, provider: job.provider });
  job.lingerTimer = setTimeout(() => m.jobs.delete(job.id), m.config.endedLingerMs);
  job.lingerTimer.unref();
}

/**
 * Its provider ended the job `preempted` (the owner took the GPU back). With attempts left and
 * time left of its maximum duration, the attempt is recorded and the job is queued again for a
 * provider that has not run it; otherwise it ends `preempted`, saying why it was not placed again.
 */
export function preempted(m: MarketState, job: ActiveJob, p: ProviderEntry, end: JobEnd): void {
  const usage = Math.max(job.usageSeconds, end.usageSeconds);
  const used = job.attempts.reduce((n, a) => n + a.usageSeconds, 0) + usage;
  const on = `Preempted on provider ${p.address}`;
  if (job.cancelRequested) return endJob(m, job, end);
  if (job.attempt >= job.maxAttempts) {
    const detail = job.maxAttempts === 1 ? `${on}; the buyer asked for one attempt only, so it is not placed again.` : `${on}, and no attempts are left (${job.attempt} of ${job.maxAttempts} used).`;
    return endJob(m, job, { ...end, reason: 'attempts-exhausted', detail });
  }
  if (used >= job.request.maxDurationSeconds) return endJob(m, job, { ...end, reason: 'max-duration-used', detail: `${on} after the job's maximum duration (${job.request.maxDurationSeconds} s) was used up; it is not placed again.` });
  const at = m.now();
  const ended: AttemptRecord = { attempt: job.attempt, provider: p.address, usageSeconds: usage, lastSeq: job.lastSeq, paid: job.paid, lastVoucher: job.lastVoucher, state: 'preempted', reason: end.reason, detail: end.detail, endedAt: at };
  p.running.delete(job.id);
  startNextAttempt(job, ended, `${on}: placing it again (attempt ${job.attempt + 1} of ${job.maxAttempts}).`, at);
  m.store.nextAttempt(job, ended);
  m.config.log.info('job preempted, placing it again', { jobId: job.id, provider: p.address, attempt: job.attempt, maxAttempts: job.maxAttempts });
  toBuyer(m, job, attemptEndedMessage(job, ended));
  toBuyer(m, job, { type: 'job-update', jobId: job.id, state: 'queued', provider: null, reason: 're-placing', detail: job.detail });
  startQueueTimer(m, job);
  offerNext(m, job);
  // The preempted provider's slot is free again for other jobs once it advertises.
  scheduleRematch(m);
}

/** The job, its ended attempt recorded, starts over as the next attempt: queued, no provider, nothing paid on the new channel. */
function startNextAttempt(job: ActiveJob, ended: AttemptRecord, detail: string, at: number): void {
  job.attempts.push(ended);
  job.attempt += 1;
  job.provider = null;
  job.payee = null;
  job.usageSeconds = 0;
  job.lastSeq = null;
  job.paid = '0';
  job.lastVoucher = null;
  job.exitCode = null;
  job.outputBytes = 0;
  job.outputChunks = 0;
  job.pull = null;
  job.state = 'queued';
  job.reason = 're-placing';
  job.detail = detail;
  job.queuedAt = at;
}

/** A job waiting for a provider ends `expired` after the queue timeout (counted from submission, or from being placed again). */
export function startQueueTimer(m: MarketState, job: ActiveJob): void {
  stopQueueTimer(job);
  if (m.closed) return;
  const left = Math.max(0, job.queuedAt + m.config.queueTimeoutMs - m.now());
  job.queueTimer = setTimeout(() => queueTimedOut(m, job), Math.min(left, 2 ** 31 - 1));
  job.queueTimer.unref();
}

export function stopQueueTimer(job: ActiveJob): void {
  if (job.queueTimer) clearTimeout(job.queueTimer);
  job.queueTimer = null;
}

function queueTimedOut(m: MarketState, job: ActiveJob): void {
  job.queueTimer = null;
  if (m.closed || (job.state !== 'queued' && job.state !== 'offered')) return;
  if (job.queuedAt + m.config.queueTimeoutMs > m.now()) return startQueueTimer(m, job); // a timeout longer than a timer can hold
  const ms = m.config.queueTimeoutMs;
  const waited = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
  const last = job.attempts.at(-1);
  const detail = last
    ? `Preempted on provider ${last.provider}, and no other provider took the job within ${waited} (attempt ${job.attempt} of ${job.maxAttempts} was never placed).`
    : `No provider took the job within ${waited}; it was not run.`;
  endJob(m, job, { state: 'expired', reason: 'queue-timeout', detail, usageSeconds: 0, exitCode: null });
}
