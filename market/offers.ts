/**
 * Offers: a queued job is offered to the best provider that has not had it with its current
 * advertisement, stands until answered or expired, and on its close the job goes to the next one.
 * Queued jobs are matched again when a provider advertises, connects or frees a slot.
 */
import { IMAGES_REVISION, PAYEE_REVISION, type JobRequest } from '../protocol/index.js';
import { randomId } from './ids.js';
import type { Candidate } from './matching.js';
import type { ActiveJob, MarketState, ProviderEntry, StandingOffer } from './state.js';
import { ENDED_STATES } from './job-records.js';

/** What is offered to a provider: the buyer's request, its maximum duration less what earlier attempts ran. */
function offeredRequest(job: ActiveJob): JobRequest {
  if (job.attempts.length === 0) return job.request;
  const used = job.attempts.reduce((n, a) => n + a.usageSeconds, 0);
  return { ...job.request, maxDurationSeconds: Math.max(1, job.request.maxDurationSeconds - used) };
}

/** The job as a provider of `revision` reads it: revision 1's strict schema knows no image size nor pull limit. */
function requestFor(request: JobRequest, revision: number): JobRequest {
  if (revision >= IMAGES_REVISION || (request.imageSizeBytes === undefined && request.maxPullSeconds === undefined)) return request;
  const { imageSizeBytes: _size, maxPullSeconds: _pull, ...v1 } = request;
  return v1;
}

/** Offers the job to the best provider that has not had it yet with its current advertisement. */
export function offerNext(m: MarketState, job: ActiveJob): boolean {
  if (m.closed || job.offer || job.state !== 'queued') return false;
  const { chainId, escrow, offerTtlMs } = m.config;
  const tried = job.tried;
  // Never a provider that already ran an attempt of the job.
  const ran = job.attempts.length === 0 ? null : new Set(job.attempts.map((a) => a.provider));
  const request = offeredRequest(job);
  // A provider paid at a payout address only for a buyer that can name it in vouchers (protocol/payout.ts).
  const noPayee = job.buyerRevision < PAYEE_REVISION;
  const skip =
    tried.size === 0 && !ran && !noPayee
      ? undefined
      : (c: Candidate) => (noPayee && c.ad?.payee !== undefined) || ran?.has(c.address) === true || tried.get(c.address) === (c as ProviderEntry).adVersion;
  const best = m.ranked.pick(request, { chainId, escrow }, skip);
  if (!best || !best.peer) return false;
  const at = m.now();
  const offer: StandingOffer = { id: randomId('o'), provider: best.address, expiresAt: at + offerTtlMs, timer: setTimeout(() => offerExpired(m, job, offer.id), offerTtlMs) };
  job.offer = offer;
  job.state = 'offered';
  job.reason = 'offered';
  job.offers += 1;
  best.offers.set(offer.id, job);
  best.reservedSlots += 1;
  best.reservedGpus += job.request.gpus;
  best.lastOfferedAt = at;
  m.offers.set(offer.id, job);
  m.store.transaction(() => {
    m.store.insertOffer(offer.id, job.id, best.address, at, offer.expiresAt);
    m.store.saveJob(job);
  });
  best.peer.send({ type: 'offer', offer: { offerId: offer.id, jobId: job.id, job: requestFor(request, best.revision), buyer: job.buyer, chainId, escrow, expiresAt: offer.expiresAt } });
  return true;
}

function offerExpired(m: MarketState, job: ActiveJob, offerId: string): void {
  if (job.offer?.id !== offerId || m.closed) return;
  closeOffer(m, job, 'expired', 'expired', `No answer within ${m.config.offerTtlMs} ms.`, true);
}

/** Closes the job's standing offer; `next`: offer the job to the next provider. */
export function closeOffer(m: MarketState, job: ActiveJob, decision: 'declined' | 'expired' | 'withdrawn', reason: string, detail: string, tellProvider: boolean, next = true): void {
  const offer = job.offer;
  if (!offer) return;
  clearTimeout(offer.timer);
  job.offer = null;
  m.offers.delete(offer.id);
  const p = m.providers.get(offer.provider);
  if (p) {
    p.offers.delete(offer.id);
    p.reservedSlots = Math.max(0, p.reservedSlots - 1);
    p.reservedGpus = Math.max(0, p.reservedGpus - job.request.gpus);
    job.tried.set(p.address, p.adVersion);
    if (tellProvider) p.peer?.send({ type: 'offer-withdrawn', offerId: offer.id, reason });
  }
  m.store.decideOffer(offer.id, decision, reason, detail, m.now());
  if (!ENDED_STATES.has(job.state)) {
    job.state = 'queued';
    job.reason = decision === 'declined' ? `declined: ${reason}`.slice(0, 64) : reason;
    if (next) {
      offerNext(m, job);
      if (job.state === 'queued') m.store.saveJob(job);
    }
  }
  // The provider may have room for another queued job now.
  scheduleRematch(m);
}

/** Queued jobs are matched again (in submission order) when a provider advertises, connects, or frees a slot; coalesced. */
export function scheduleRematch(m: MarketState): void {
  if (m.rematchScheduled || m.closed) return;
  m.rematchScheduled = true;
  setImmediate(() => {
    m.rematchScheduled = false;
    rematch(m);
  });
}

function rematch(m: MarketState): void {
  if (m.closed) return;
  const hasRoom = () => {
    for (const p of m.providers.values()) {
      if (p.connected && p.ad && p.ad.availability.state !== 'paused' && p.ad.availability.state !== 'error' && p.ad.slots - p.reservedSlots >= 1) return true;
    }
    return false;
  };
  if (!hasRoom()) return;
  let since = 0;
  for (const job of m.jobs.values()) {
    if (job.state !== 'queued') continue;
    if (offerNext(m, job) && ++since % 64 === 0 && !hasRoom()) return;
  }
}
