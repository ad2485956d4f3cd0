/**
 * Buyers' sessions and what a signed-in buyer says: submit a job, pay with a voucher (checked and
 * passed to the provider it names), cancel, and attach again to jobs after a reconnect.
 */
import { id as keccakText } from 'ethers';
import type { BuyerMessage, ToBuyerMessage } from '../protocol/index.js';
import { recoverVoucherSigner } from '../runtime/wallet/voucher.js';
import { demandAsked } from './demand-sender.js';
import { randomId } from './ids.js';
import { endJob, startQueueTimer } from './job-life.js';
import { closeOffer, offerNext } from './offers.js';
import { attemptEndedMessage, forSession, pullProgressMessage, toBuyer } from './relay.js';
import { refusal, sameAddress, type BuyerSession, type MarketState, type Peer, type Refusal } from './state.js';
import { ENDED_STATES, type StoredJob } from './job-records.js';

type SignedVoucher = Extract<BuyerMessage, { type: 'voucher' }>['signed'];

export function buyerConnected(m: MarketState, address: string, peer: Peer<ToBuyerMessage>, revision: number): BuyerSession {
  const session: BuyerSession = { address, revision, peer, following: new Set() };
  let set = m.buyers.get(address);
  if (!set) m.buyers.set(address, (set = new Set()));
  set.add(session);
  return session;
}

export function buyerGone(m: MarketState, session: BuyerSession): void {
  const set = m.buyers.get(session.address);
  set?.delete(session);
  if (set && set.size === 0) m.buyers.delete(session.address);
}

export function fromBuyer(m: MarketState, session: BuyerSession, msg: BuyerMessage): Refusal | null {
  switch (msg.type) {
    case 'hello':
    case 'sign-in':
      return refusal('already-signed-in', 'The first exchange is over: this connection is signed in.');
    case 'submit':
      // A submit without maxAttempts comes from a client that predates re-placement: it could not pay a
      // second provider, so its job is never placed again.
      return submit(m, session, msg.ref, msg.job, msg.maxAttempts ?? 1);
    case 'voucher':
      return voucher(m, session, msg.jobId, msg.signed);
    case 'cancel':
      return cancel(m, session, msg.jobId);
    case 'attach':
      for (const jobId of msg.jobIds) {
        const problem = attach(m, session, jobId);
        if (problem) return problem;
      }
      return null;
  }
}

function submit(m: MarketState, session: BuyerSession, ref: string, request: Extract<BuyerMessage, { type: 'submit' }>['job'], maxAttempts: number): Refusal | null {
  if ((m.openByBuyer.get(session.address) ?? 0) >= m.config.maxOpenJobsPerBuyer) return refusal('too-many-jobs', `A buyer may have ${m.config.maxOpenJobsPerBuyer} open jobs; wait for some to end.`, ref);
  const id = randomId('j', 9);
  const at = m.now();
  m.store.insertJob(id, session.address, request, at, maxAttempts);
  const job = m.activate({ id, buyer: session.address, request, state: 'queued', reason: 'submitted', detail: '', provider: null, payee: null, usageSeconds: 0, lastSeq: null, paid: '0', lastVoucher: null, exitCode: null, offers: 0, submittedAt: at, endedAt: null, attempt: 1, maxAttempts, queuedAt: at, attempts: [] }, session.revision);
  session.following.add(id);
  startQueueTimer(m, job);
  demandAsked(m, session.address, request);
  session.peer.send({ type: 'submitted', ref, jobId: id, chainId: m.config.chainId, escrow: m.config.escrow });
  offerNext(m, job);
  if (job.state === 'queued') toBuyer(m, job, { type: 'job-update', jobId: id, state: 'queued', provider: null, reason: 'no-provider', detail: 'No connected provider can take the job now; it waits for one.' });
  return null;
}

/** The buyer's job, in memory or in the database (ended long ago). */
function buyerJob(m: MarketState, session: BuyerSession, jobId: string): StoredJob | Refusal {
  const job = m.jobs.get(jobId) ?? m.store.job(jobId);
  if (!job || job.buyer !== session.address) return refusal('unknown-job', `You have no job ${jobId}.`, jobId);
  return job;
}

/** Why the voucher does not pay the job's provider or one of its earlier attempts', or null. */
function voucherProblem(m: MarketState, session: BuyerSession, job: StoredJob, signed: SignedVoucher, earlier: StoredJob['attempts'][number] | null): string | null {
  const v = signed.voucher;
  if (!job.provider && !earlier) return job.attempts.length ? 'it names no provider that ran the job, and the job waits to be placed again.' : 'the job has no provider yet.';
  if (v.buyer.toLowerCase() !== session.address.toLowerCase()) return 'it names another buyer.';
  if (!earlier && !sameAddress(v.provider, job.provider!)) return "it does not name the job's provider.";
  // The attempt's payout address (revision 3) is what the provider checks every voucher for.
  if (!earlier) {
    if (job.payee && !(v.payee && sameAddress(v.payee, job.payee))) return `it does not pay the provider's payout address ${job.payee} (its payee must be that address).`;
    if (!job.payee && v.payee && !sameAddress(v.payee, v.provider)) return 'it names a payee, but the provider named no payout address.';
  }
  if (v.jobId.toLowerCase() !== keccakText(job.id)) return 'its jobId is not keccak256 of the market job id.';
  const last = earlier ? earlier.paid : job.paid;
  if (BigInt(v.cumulativeAmount) < BigInt(last)) return `it is for less than the last voucher (${last}).`;
  let signer: string;
  try {
    signer = recoverVoucherSigner(signed, m.config.chainId, m.config.escrow);
  } catch {
    return 'the signature cannot be read.';
  }
  if (signer.toLowerCase() !== session.address.toLowerCase()) return `it is not signed by the buyer for chain ${m.config.chainId} and escrow ${m.config.escrow}.`;
  return null;
}

function voucher(m: MarketState, session: BuyerSession, jobId: string, signed: SignedVoucher): Refusal | null {
  const job = buyerJob(m, session, jobId);
  if ('type' in job) return job;
  const v = signed.voucher;
  // Each attempt is its own channel (buyer, provider, jobId): a voucher pays the current provider, or one that ran an earlier attempt.
  const earlier = job.provider && sameAddress(v.provider, job.provider) ? null : (job.attempts.find((a) => sameAddress(a.provider, v.provider)) ?? null);
  const problem = voucherProblem(m, session, job, signed, earlier);
  if (problem) return refusal('voucher-refused', `Voucher refused: ${problem}`, jobId);
  const to = earlier ? earlier.provider : job.provider!;
  if (earlier) {
    m.store.insertAttemptVoucher(jobId, earlier.attempt, signed, m.now());
    // `job` is the live job when it is in memory, so this updates it too.
    earlier.paid = v.cumulativeAmount;
    earlier.lastVoucher = signed;
  } else {
    m.store.insertVoucher(jobId, job.attempt, signed, m.now());
    const active = m.jobs.get(jobId);
    if (active) {
      active.paid = v.cumulativeAmount;
      active.lastVoucher = signed;
    }
  }
  m.providers.get(to)?.peer?.send({ type: 'voucher', jobId, signed });
  return null;
}

const endedMessage = (found: StoredJob): ToBuyerMessage => ({
  type: 'job-ended',
  end: { jobId: found.id, state: found.state, reason: found.reason, detail: found.detail, usageSeconds: found.usageSeconds, exitCode: found.exitCode },
  provider: found.provider,
});

function cancel(m: MarketState, session: BuyerSession, jobId: string): Refusal | null {
  const found = buyerJob(m, session, jobId);
  if ('type' in found) return found;
  const job = m.jobs.get(jobId);
  if (!job || ENDED_STATES.has(job.state)) {
    session.peer.send(endedMessage(found));
    return null;
  }
  if (job.state === 'queued' || job.state === 'offered') {
    if (job.offer) closeOffer(m, job, 'withdrawn', 'cancelled', 'The buyer cancelled the job.', true, false);
    endJob(m, job, { state: 'cancelled', reason: 'cancelled-by-buyer', detail: 'Cancelled before any provider ran it.', usageSeconds: 0, exitCode: null });
    return null;
  }
  job.cancelRequested = true;
  const provider = job.provider ? m.providers.get(job.provider) : undefined;
  provider?.peer?.send({ type: 'cancel', jobId, reason: 'cancelled-by-buyer', detail: 'The buyer cancelled the job.' });
  return null;
}

function attach(m: MarketState, session: BuyerSession, jobId: string): Refusal | null {
  const found = buyerJob(m, session, jobId);
  if ('type' in found) return found;
  session.following.add(jobId);
  const job = m.jobs.get(jobId);
  if (!job) {
    session.peer.send(endedMessage(found));
    return null;
  }
  const pending = job.pending;
  job.pending = [];
  job.pendingBytes = 0;
  // The attempts already over (the held messages may have lost theirs to the bound; a buyer takes each once),
  // then what happened while away, in order, then where the job stands now.
  for (const a of job.attempts) session.peer.send(attemptEndedMessage(job, a));
  job.buyerRevision = session.revision;
  for (const msg of pending) session.peer.send(forSession(job, msg, session.revision));
  if (!pending.some((msg) => msg.type === 'job-ended')) session.peer.send(forSession(job, { type: 'job-update', jobId, state: job.state, provider: job.provider, reason: 'attached', detail: job.detail }, session.revision));
  // Pull progress is not held while the buyer is away; the latest is, while the pull may still go on.
  const pull = pullProgressMessage(job, session);
  if (pull) session.peer.send(pull);
  return null;
}
