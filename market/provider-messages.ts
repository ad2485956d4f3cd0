/**
 * What a signed-in provider says: its advertisement, its answers to offers, and for the jobs it
 * runs, their start, pauses, signed usage, output and end, each relayed to the job's buyer.
 */
import { getAddress } from 'ethers';
import { IMAGES_REVISION, MAX_OUTPUT_BYTES, PAYEE_REVISION, MAX_OUTPUT_FILES, OUTPUT_CHUNK_BYTES, type Advertisement, type ProviderMessage, type ToProviderMessage } from '../protocol/index.js';
import { endJob, preempted, setState, stopQueueTimer } from './job-life.js';
import { closeOffer, scheduleRematch } from './offers.js';
import { resume } from './provider-connections.js';
import { relayPull, toBuyer } from './relay.js';
import { refusal, type MarketState, type Peer, type ProviderEntry, type Refusal } from './state.js';
import { ENDED_STATES } from './job-records.js';

const MAX_OUTPUT_WIRE_BYTES = Math.ceil((MAX_OUTPUT_BYTES * 4) / 3) + 64 * 1024;
/** Every file starts a chunk: the most chunks a job's whole output can take (empty files cost no bytes). */
const MAX_OUTPUT_CHUNKS = MAX_OUTPUT_FILES + Math.ceil(MAX_OUTPUT_BYTES / OUTPUT_CHUNK_BYTES);

const notYours = (jobId: string) => refusal('unknown-job', `Job ${jobId} is not assigned to you.`, jobId);

/** Handles one valid message from a signed-in provider. Returns an error to send (counted as malformed) or null. */
export function fromProvider(m: MarketState, address: string, peer: Peer<ToProviderMessage>, msg: ProviderMessage): Refusal | null {
  const p = m.providers.get(address);
  if (!p || p.peer !== peer) return refusal('not-connected', 'This connection was replaced by a newer one.');
  switch (msg.type) {
    case 'hello':
    case 'sign-in':
      return refusal('already-signed-in', 'The first exchange is over: this connection is signed in.');
    case 'advertise':
      return advertise(m, p, msg.ad);
    case 'offer-reply':
      return offerReply(m, p, msg.offerId, msg.accept, msg.reason, msg.detail);
    case 'job-started': {
      const job = m.ownJob(p, msg.jobId);
      if (!job) return notYours(msg.jobId);
      setState(m, job, 'running', 'started', 'The provider started the job.');
      return null;
    }
    case 'job-paused': {
      const job = m.ownJob(p, msg.jobId);
      if (!job) return notYours(msg.jobId);
      setState(m, job, msg.paused ? 'paused' : 'running', msg.paused ? 'paused' : 'resumed', msg.detail);
      return null;
    }
    case 'usage':
      return usage(m, p, msg.report);
    case 'output':
      return output(m, p, msg.chunk);
    case 'job-ended': {
      const job = m.ownJob(p, msg.end.jobId);
      if (!job) return notYours(msg.end.jobId);
      if (!ENDED_STATES.has(msg.end.state)) return refusal('invalid-message', `"${msg.end.state}" is not a final state.`, job.id);
      if (msg.end.state === 'preempted') preempted(m, job, p, msg.end);
      else endJob(m, job, msg.end);
      return null;
    }
    case 'pull-progress': {
      const job = m.ownJob(p, msg.progress.jobId);
      if (!job) return notYours(msg.progress.jobId);
      relayPull(m, job, msg.progress);
      return null;
    }
    case 'resume':
      resume(m, p, msg.jobs);
      return null;
    case 'error':
      // The provider could not take something the market sent (a malformed offer, a duplicate offerId).
      m.config.log.warn('the provider reported an error', { provider: address, code: msg.code, message: msg.message.slice(0, 200), ref: msg.ref ?? null });
      return null;
  }
}

function advertise(m: MarketState, p: ProviderEntry, ad: Advertisement): null {
  // Images are a revision-2 claim: a connection that speaks 1 is ranked without them, as it would be by a market of revision 1.
  if (ad.images && p.revision < IMAGES_REVISION) {
    const { images: _dropped, ...v1 } = ad;
    ad = v1;
  }
  // A payout address is a revision-3 claim likewise.
  if (ad.payee !== undefined && p.revision < PAYEE_REVISION) {
    const { payee: _dropped, ...v2 } = ad;
    ad = v2;
  }
  p.ad = ad;
  p.adVersion = ++m.adCounter;
  m.ranked.update(p);
  // What the new advertisement does not know yet: the offers still standing.
  p.reservedSlots = p.offers.size;
  p.reservedGpus = [...p.offers.values()].reduce((n, j) => n + j.request.gpus, 0);
  scheduleRematch(m);
  return null;
}

function offerReply(m: MarketState, p: ProviderEntry, offerId: string, accept: boolean, reason: string | null, detail: string): Refusal | null {
  const job = m.offers.get(offerId);
  if (!job || !job.offer || job.offer.id !== offerId) {
    // Late: expired, withdrawn or unknown. An accept is answered so the provider does not run it.
    if (accept) p.peer?.send({ type: 'offer-withdrawn', offerId, reason: 'expired' });
    return null;
  }
  if (job.offer.provider !== p.address) return refusal('unknown-offer', 'That offer was not made to you.', offerId);
  if (accept && m.now() > job.offer.expiresAt) {
    closeOffer(m, job, 'expired', 'expired', 'Accepted after the offer expired.', true);
    return null;
  }
  if (!accept) {
    closeOffer(m, job, 'declined', reason ?? 'declined', detail, false);
    return null;
  }
  const offer = job.offer;
  clearTimeout(offer.timer);
  m.offers.delete(offer.id);
  p.offers.delete(offer.id);
  job.offer = null;
  stopQueueTimer(job);
  // The slot stays reserved until the provider's next advertisement counts the job.
  job.provider = p.address;
  // The payout address it advertises now: what the buyer's vouchers for this attempt must pay.
  job.payee = p.ad?.payee ? getAddress(p.ad.payee.toLowerCase()) : null;
  job.state = 'assigned';
  job.reason = 'accepted';
  job.detail = detail;
  p.running.add(job.id);
  const at = m.now();
  m.store.transaction(() => {
    m.store.decideOffer(offer.id, 'accepted', null, detail, at);
    m.store.saveJob(job);
  });
  p.peer?.send({ type: 'job-confirmed', jobId: job.id, offerId: offer.id });
  toBuyer(m, job, { type: 'job-update', jobId: job.id, state: 'assigned', provider: p.address, reason: 'accepted', detail: 'A provider accepted the job.' });
  return null;
}

function usage(m: MarketState, p: ProviderEntry, report: Extract<ProviderMessage, { type: 'usage' }>['report']): Refusal | null {
  const job = m.jobs.get(report.jobId);
  // A final report may follow job-ended; reports for ended jobs are still relayed to the buyer so it can pay the end.
  // So may the final report of an earlier attempt (its provider was preempted): it goes on that attempt's channel.
  const earlier = job && job.provider !== p.address ? (job.attempts.find((a) => a.provider === p.address) ?? null) : null;
  if (!job || (job.provider !== p.address && !earlier)) return notYours(report.jobId);
  if (report.provider.toLowerCase() !== p.address.toLowerCase()) return refusal('invalid-report', 'A usage report names its sender as provider.', job.id);
  const lastSeq = earlier ? earlier.lastSeq : job.lastSeq;
  if (lastSeq !== null && report.seq <= lastSeq) return refusal('stale-report', `Report ${report.seq} is not after report ${lastSeq}.`, job.id);
  const at = m.now();
  if (earlier) {
    earlier.lastSeq = report.seq;
    earlier.usageSeconds = Math.max(earlier.usageSeconds, report.usageSeconds);
    m.store.transaction(() => {
      m.store.insertUsage(report, earlier.attempt, at);
      m.store.saveAttemptUsage(job.id, earlier);
    });
  } else {
    job.lastSeq = report.seq;
    job.usageSeconds = report.usageSeconds;
    if (job.state === 'assigned') job.state = 'running';
    m.store.transaction(() => {
      m.store.insertUsage(report, job.attempt, at);
      m.store.saveJob(job);
    });
  }
  toBuyer(m, job, { type: 'usage', report, pricePerHour: job.request.pricePerHour });
  return null;
}

function output(m: MarketState, p: ProviderEntry, chunk: Extract<ProviderMessage, { type: 'output' }>['chunk']): Refusal | null {
  const job = m.ownJob(p, chunk.jobId);
  if (!job) return notYours(chunk.jobId);
  job.outputBytes += chunk.data.length;
  job.outputChunks += 1;
  if (job.outputBytes > MAX_OUTPUT_WIRE_BYTES) return refusal('output-too-large', `A job relays at most ${MAX_OUTPUT_BYTES} bytes of output; the rest is dropped.`, job.id);
  if (job.outputChunks > MAX_OUTPUT_CHUNKS) return refusal('output-too-large', `A job relays at most ${MAX_OUTPUT_FILES} output files (${MAX_OUTPUT_CHUNKS} chunks); the rest is dropped.`, job.id);
  toBuyer(m, job, { type: 'output', chunk });
  return null;
}
