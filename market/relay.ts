/**
 * Relaying to a job's buyer: to every session that follows the job, or, with none, held (bounded,
 * oldest dropped) until the buyer attaches again.
 */
import { MAX_OUTPUT_BYTES, type ToBuyerMessage } from '../protocol/index.js';
import type { ActiveJob, MarketState } from './state.js';
import type { AttemptRecord } from './job-records.js';

/** What one job may hold for an absent buyer. */
const MAX_PENDING_MESSAGES = 2000;
const MAX_PENDING_BYTES = Math.ceil((MAX_OUTPUT_BYTES * 4) / 3) + 4 * 1024 * 1024;

const heldSize = (m: ToBuyerMessage) => (m.type === 'output' ? m.chunk.data.length + 256 : 512);

/** Sends to every session of the job's buyer that follows it; with none, keeps it (bounded, oldest dropped) for `attach`. */
export function toBuyer(m: MarketState, job: ActiveJob, message: ToBuyerMessage): void {
  let sent = false;
  for (const s of m.buyers.get(job.buyer) ?? []) {
    if (s.following.has(job.id)) {
      s.peer.send(message);
      sent = true;
    }
  }
  if (sent) return;
  job.pending.push(message);
  job.pendingBytes += heldSize(message);
  while (job.pending.length > MAX_PENDING_MESSAGES || job.pendingBytes > MAX_PENDING_BYTES) {
    const dropped = job.pending.shift();
    if (!dropped) break;
    job.pendingBytes -= heldSize(dropped);
  }
}

/** The buyer's message for an attempt that is over (its provider was preempted). */
export function attemptEndedMessage(job: ActiveJob, a: AttemptRecord): Extract<ToBuyerMessage, { type: 'attempt-ended' }> {
  return { type: 'attempt-ended', jobId: job.id, attempt: a.attempt, provider: a.provider, end: { jobId: job.id, state: a.state, reason: a.reason.slice(0, 64), detail: a.detail.slice(0, 2000), usageSeconds: a.usageSeconds, exitCode: null }, next: a.attempt + 1, maxAttempts: job.maxAttempts };
}
