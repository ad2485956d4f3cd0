/**
 * Providers coming and going: a newer connection replaces an older one, a provider that leaves
 * keeps its running jobs for a grace period, and one that comes back names the jobs it still runs.
 */
import type { ToProviderMessage } from '../protocol/index.js';
import { forgetDemandSent, sendDemand } from './demand-sender.js';
import { endJob } from './job-life.js';
import { closeOffer, scheduleRematch } from './offers.js';
import { toBuyer } from './relay.js';
import type { MarketState, Peer, ProviderEntry } from './state.js';
import { ENDED_STATES } from './job-records.js';

/** A provider signed in, its connection speaking `revision`: it gets the demand list at once (revision 2), then advertises. */
export function providerConnected(m: MarketState, address: string, peer: Peer<ToProviderMessage>, revision: number): void {
  const old = m.providers.get(address)?.peer;
  if (old && old !== peer) {
    providerGone(m, address, old);
    old.close(4001, 'replaced by a newer connection of the same provider');
  }
  // (providerGone may have dropped the entry.)
  const p = m.providerEntry(address);
  p.peer = peer;
  p.revision = revision;
  forgetDemandSent(p);
  p.connected = true;
  p.connectedAt = m.now();
  p.ad = null; // a fresh advertisement is expected
  m.ranked.remove(p);
  m.config.log.info('provider connected', { provider: address, revision });
  sendDemand(m, p);
}

export function providerGone(m: MarketState, address: string, peer: Peer<ToProviderMessage>): void {
  const p = m.providers.get(address);
  if (!p || p.peer !== peer || m.closed) return;
  p.peer = null;
  forgetDemandSent(p);
  p.connected = false;
  p.connectedAt = null;
  m.ranked.remove(p);
  for (const job of [...p.offers.values()]) closeOffer(m, job, 'withdrawn', 'provider-disconnected', 'The provider disconnected while the offer stood.', false);
  for (const jobId of p.running) {
    const job = m.jobs.get(jobId);
    if (job) toBuyer(m, job, { type: 'job-update', jobId, state: job.state, provider: job.provider, reason: 'provider-disconnected', detail: `The provider disconnected; it keeps running the job for its grace period and reconnects. The market waits ${Math.round(m.config.providerGraceMs / 1000)} s.` });
  }
  if (p.running.size > 0) startGrace(m, p);
  if (p.running.size === 0 && p.offers.size === 0) m.providers.delete(address);
  m.config.log.info('provider disconnected', { provider: address, running: p.running.size });
  scheduleRematch(m);
}

/** Past the grace with no `resume`, the provider's jobs end as `market-unreachable` (the provider stops them on its side for the same reason). */
export function startGrace(m: MarketState, p: ProviderEntry): void {
  if (p.graceTimer) clearTimeout(p.graceTimer);
  if (m.closed) return;
  p.graceTimer = setTimeout(() => {
    p.graceTimer = null;
    for (const jobId of [...p.running]) {
      const job = m.jobs.get(jobId);
      if (job) endJob(m, job, { state: 'market-unreachable', reason: 'market-unreachable', detail: 'The provider did not come back within the grace period.', usageSeconds: job.usageSeconds, exitCode: null });
    }
    if (!p.connected && p.offers.size === 0) m.providers.delete(p.address);
  }, m.config.providerGraceMs);
}

/** A provider back after a disconnect names the jobs it still runs: those go on, the others it had end `lost-by-provider`. */
export function resume(m: MarketState, p: ProviderEntry, jobs: { jobId: string; usageSeconds: number }[]): void {
  if (p.graceTimer) clearTimeout(p.graceTimer);
  p.graceTimer = null;
  const named = new Set(jobs.map((j) => j.jobId));
  const answer = jobs.map(({ jobId, usageSeconds }) => {
    const job = m.jobs.get(jobId);
    const known = !!job && job.provider === p.address && !ENDED_STATES.has(job.state);
    if (known && job) {
      p.running.add(jobId);
      if (usageSeconds > job.usageSeconds) job.usageSeconds = usageSeconds;
      m.store.saveJob(job);
    }
    return { jobId, known };
  });
  p.peer?.send({ type: 'resumed', jobs: answer });
  for (const { jobId, known } of answer) {
    const job = m.jobs.get(jobId);
    if (!known || !job) continue;
    toBuyer(m, job, { type: 'job-update', jobId, state: job.state, provider: p.address, reason: 'provider-reconnected', detail: 'The provider reconnected; the job goes on.' });
    if (job.lastVoucher) p.peer?.send({ type: 'voucher', jobId, signed: job.lastVoucher });
    if (job.cancelRequested) p.peer?.send({ type: 'cancel', jobId, reason: 'cancelled-by-buyer', detail: 'The buyer cancelled the job.' });
  }
  // Jobs the market had on this provider that it no longer runs.
  for (const jobId of [...p.running]) {
    if (named.has(jobId)) continue;
    const job = m.jobs.get(jobId);
    if (job) endJob(m, job, { state: 'failed', reason: 'lost-by-provider', detail: 'The provider reconnected without this job.', usageSeconds: job.usageSeconds, exitCode: null });
  }
}
