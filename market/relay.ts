/**
 * Relaying to a job's buyer: to every session that follows the job, or, with none, held (bounded,
 * oldest dropped) until the buyer attaches again. Pull progress goes only to sessions that speak
 * revision 2, and is never held: the latest is kept on the job instead.
 */
import { IMAGES_REVISION, MAX_OUTPUT_BYTES, PAYEE_REVISION, type PullProgressReport, type ToBuyerMessage } from '../protocol/index.js';
import { sameAddress, type ActiveJob, type BuyerSession, type MarketState } from './state.js';
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
      s.peer.send(forSession(job, message, s.revision));
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

/**
 * The message as a session of `revision` reads it: at revision 3 a job-update about the job's
 * current provider names its payout address (protocol/payout.ts), which the buyer's vouchers must
 * pay; before 3, never.
 */
export function forSession(job: ActiveJob, message: ToBuyerMessage, revision: number): ToBuyerMessage {
  if (message.type !== 'job-update') return message;
  if (revision >= PAYEE_REVISION && job.payee && message.provider !== null && job.provider !== null && sameAddress(message.provider, job.provider)) return { ...message, payee: job.payee };
  if (message.payee === undefined) return message;
  const { payee: _payee, ...earlier } = message;
  return earlier;
}

/** Pull progress is relayed at most this often per job (the provider may send it as often as it likes), and the one that ends the pull always. */
const PULL_RELAY_MS = 500;

/** The provider's pull progress, to the buyer's revision-2 sessions that follow the job. */
export function relayPull(m: MarketState, job: ActiveJob, progress: PullProgressReport): void {
  job.pull = progress;
  const now = m.now();
  const done = progress.totalBytes !== null && progress.bytes >= progress.totalBytes;
  if (!done && now - job.pullRelayedAt < PULL_RELAY_MS) return;
  job.pullRelayedAt = now;
  for (const s of m.buyers.get(job.buyer) ?? []) {
    const message = s.following.has(job.id) ? pullProgressMessage(job, s, false) : null;
    if (message) s.peer.send(message);
  }
}

/** The job's latest pull progress for this session, or null: none, the session speaks revision 1, or (`whilePulling`) the job is past its pull. */
export function pullProgressMessage(job: ActiveJob, session: BuyerSession, whilePulling = true): Extract<ToBuyerMessage, { type: 'pull-progress' }> | null {
  if (!job.pull || session.revision < IMAGES_REVISION || (whilePulling && job.state !== 'assigned')) return null;
  return { type: 'pull-progress', progress: job.pull };
}

/** The buyer's message for an attempt that is over (its provider was preempted). */
export function attemptEndedMessage(job: ActiveJob, a: AttemptRecord): Extract<ToBuyerMessage, { type: 'attempt-ended' }> {
  return { type: 'attempt-ended', jobId: job.id, attempt: a.attempt, provider: a.provider, end: { jobId: job.id, state: a.state, reason: a.reason.slice(0, 64), detail: a.detail.slice(0, 2000), usageSeconds: a.usageSeconds, exitCode: null }, next: a.attempt + 1, maxAttempts: job.maxAttempts };
}
