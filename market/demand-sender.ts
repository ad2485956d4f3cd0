/**
 * Telling providers what is in demand: every submit is counted in the demand book, the list is
 * worked out again shortly after (a burst of submits costs one), and each revision-2 provider gets
 * it on sign-in and when it changes, at most once per `demandIntervalMs` (30 s). A revision-1
 * provider never gets it.
 */
import { IMAGES_REVISION, type JobRequest } from '../protocol/index.js';
import type { MarketState, ProviderEntry } from './state.js';

export const DEMAND_MIN_INTERVAL_MS = 30_000;
/** Submits within this time are counted into one new list. */
const RECOMPUTE_DELAY_MS = 250;
/** Requests age out of the window with no submit at all: the list is looked at again this often. */
const SWEEP_MS = 60_000;

/** A buyer's job was taken: count its image. */
export function demandAsked(m: MarketState, buyer: string, job: JobRequest): void {
  m.demand.record(buyer, job.image, job.imageSizeBytes, m.now());
  if (!m.demandSweep && !m.closed) {
    m.demandSweep = setInterval(() => recomputeDemand(m), SWEEP_MS);
    m.demandSweep.unref();
  }
  if (m.demandTimer || m.closed) return;
  m.demandTimer = setTimeout(() => {
    m.demandTimer = null;
    recomputeDemand(m);
  }, RECOMPUTE_DELAY_MS);
  m.demandTimer.unref();
}

function recomputeDemand(m: MarketState): void {
  if (m.closed) return;
  const list = m.demand.list(m.now());
  const json = JSON.stringify(list);
  if (json === m.demandJson) return;
  m.demandList = list;
  m.demandJson = json;
  for (const p of m.providers.values()) sendDemand(m, p);
}

/** Sends the current list to the provider when it speaks revision 2 and has not got it, waiting out the interval since its last one. */
export function sendDemand(m: MarketState, p: ProviderEntry): void {
  if (m.closed || !p.peer || p.revision < IMAGES_REVISION || p.demandSent === m.demandJson) return;
  const wait = p.demandSentAt + (m.config.demandIntervalMs ?? DEMAND_MIN_INTERVAL_MS) - m.now();
  if (wait > 0) {
    p.demandTimer ??= setTimeout(() => {
      p.demandTimer = null;
      sendDemand(m, p);
    }, wait);
    p.demandTimer.unref();
    return;
  }
  p.peer.send({ type: 'demand', images: m.demandList });
  p.demandSent = m.demandJson;
  p.demandSentAt = m.now();
}

/** A connection's own count starts afresh (a new connection has seen nothing). */
export function forgetDemandSent(p: ProviderEntry): void {
  if (p.demandTimer) clearTimeout(p.demandTimer);
  p.demandTimer = null;
  p.demandSent = null;
  p.demandSentAt = 0;
}

export function stopDemand(m: MarketState): void {
  if (m.demandTimer) clearTimeout(m.demandTimer);
  if (m.demandSweep) clearInterval(m.demandSweep);
  m.demandTimer = null;
  m.demandSweep = null;
  for (const p of m.providers.values()) forgetDemandSent(p);
}
