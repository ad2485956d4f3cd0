/**
 * The reference market's core, apart from the transport: the registry of providers with their
 * latest advertisement, the buyers' sessions, each job's life (queued → offered → assigned →
 * running → ended), offers with their expiry, and the relaying of usage reports, vouchers, output
 * and endings between a job's provider and its buyer. server.ts feeds it validated messages.
 *
 * The market never signs anything and never holds a key: it checks what it relays (who sent it,
 * for which job) and records it. This class is the door; each idea has its file (state, offers,
 * job-life, relay, provider-connections, provider-messages, buyer-messages).
 */
import { getAddress } from 'ethers';
import type { BuyerMessage, MarketJobView, MarketProviderView, ProviderMessage, ToBuyerMessage, ToProviderMessage } from '../protocol/index.js';
import { buyerConnected, buyerGone, fromBuyer } from './buyer-messages.js';
import { stopDemand } from './demand-sender.js';
import { startQueueTimer } from './job-life.js';
import { scheduleRematch } from './offers.js';
import { providerConnected, providerGone, startGrace } from './provider-connections.js';
import { fromProvider } from './provider-messages.js';
import { MarketState, type BuyerSession, type MarketConfig, type Peer, type Refusal } from './state.js';
import type { MarketStore } from './store.js';
import { ENDED_STATES, jobView } from './job-records.js';

export type { BuyerSession, MarketConfig, Peer } from './state.js';

export class Market {
  private readonly m: MarketState;
  // Named here too: tests look at what the market recorded and whom it follows.
  private readonly store: MarketStore;
  private readonly buyers: MarketState['buyers'];

  constructor(store: MarketStore, config: MarketConfig) {
    this.m = new MarketState(store, config);
    this.store = store;
    this.buyers = this.m.buyers;
    this.recover();
  }

  /** After a restart: open jobs come back. Standing offers are void (queued again); assigned and running jobs wait for their provider's `resume`. */
  private recover(): void {
    const m = this.m;
    for (const stored of m.store.activeJobs()) {
      const job = m.activate(stored);
      if (job.state === 'queued' || job.state === 'offered') {
        job.state = 'queued';
        m.store.saveJob(job);
        startQueueTimer(m, job);
      } else if (job.provider) {
        const p = m.providerEntry(job.provider);
        p.running.add(job.id);
        startGrace(m, p);
      }
    }
    m.store.withdrawStandingOffers('market-restarted', 'The market restarted while the offer stood.', m.now());
    if (m.jobs.size > 0) m.config.log.info('market recovered open jobs', { jobs: m.jobs.size });
    scheduleRematch(m);
  }

  close(): void {
    this.m.closed = true;
    for (const job of this.m.jobs.values()) {
      if (job.offer) clearTimeout(job.offer.timer);
      if (job.lingerTimer) clearTimeout(job.lingerTimer);
      if (job.queueTimer) clearTimeout(job.queueTimer);
    }
    for (const p of this.m.providers.values()) if (p.graceTimer) clearTimeout(p.graceTimer);
    stopDemand(this.m);
  }

  /** `revision`: what the connection speaks (the highest both sides listed in the first exchange). */
  providerConnected(address: string, peer: Peer<ToProviderMessage>, revision = 1): void {
    providerConnected(this.m, address, peer, revision);
  }

  providerGone(address: string, peer: Peer<ToProviderMessage>): void {
    providerGone(this.m, address, peer);
  }

  /** Handles one valid message from a signed-in provider. Returns an error to send (counted as malformed) or null. */
  fromProvider(address: string, peer: Peer<ToProviderMessage>, msg: ProviderMessage): Refusal | null {
    return fromProvider(this.m, address, peer, msg);
  }

  buyerConnected(address: string, peer: Peer<ToBuyerMessage>, revision = 1): BuyerSession {
    return buyerConnected(this.m, address, peer, revision);
  }

  buyerGone(session: BuyerSession): void {
    buyerGone(this.m, session);
  }

  fromBuyer(session: BuyerSession, msg: BuyerMessage): Refusal | null {
    return fromBuyer(this.m, session, msg);
  }

  jobsView(limit = 1000): MarketJobView[] {
    return this.store.recentJobs(limit).map((stored) => jobView(this.m.jobs.get(stored.id) ?? stored));
  }

  providersView(): MarketProviderView[] {
    return [...this.m.providers.values()].map((p) => ({ address: p.address, connected: p.connected, connectedAt: p.connectedAt, ad: p.ad, runningJobs: [...p.running] }));
  }

  /** For tests and the benchmark. */
  stats(): { providers: number; connected: number; openJobs: number; queued: number; standingOffers: number } {
    let queued = 0;
    let open = 0;
    for (const j of this.m.jobs.values()) {
      if (!ENDED_STATES.has(j.state)) open += 1;
      if (j.state === 'queued') queued += 1;
    }
    return { providers: this.m.providers.size, connected: [...this.m.providers.values()].filter((p) => p.connected).length, openJobs: open, queued, standingOffers: this.m.offers.size };
  }
}

/** The checksummed form used as the registry key. */
export function normalizeAddress(address: string): string {
  return getAddress(address.toLowerCase());
}
