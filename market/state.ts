/**
 * What the market holds in memory, shared by its parts: the providers (with their standing
 * offers and running jobs), the open jobs, the buyers' sessions, and the ranking used for matching.
 * Data and its bookkeeping only; what happens to it lives in the files named after each idea.
 */
import type { Logger } from '../runtime/log.js';
import type { DemandedImage, MarketJobState, PullProgressReport, ToBuyerMessage, ToProviderMessage } from '../protocol/index.js';
import { DemandBook } from './demand.js';
import type { Candidate } from './matching.js';
import { ProviderRanking } from './ranking.js';
import { ENDED_STATES, type StoredJob } from './job-records.js';
import type { MarketStore } from './store.js';

export interface Peer<T> {
  send(message: T): void;
  close(code: number, reason: string): void;
}

export interface MarketConfig {
  chainId: number;
  escrow: string;
  offerTtlMs: number;
  /** How long a disconnected provider's running jobs stay assigned before the market ends them as `market-unreachable`. */
  providerGraceMs: number;
  /** Jobs a buyer may have open (not ended) at once. */
  maxOpenJobsPerBuyer: number;
  /** How long an ended job stays in memory for late vouchers and a buyer's re-attach (it stays in the database). */
  endedLingerMs: number;
  /** How long a job may wait for a provider (from its submission, or from being placed again after a preemption) before it ends `expired`. */
  queueTimeoutMs: number;
  /** The least time between two `demand` messages to one provider (default DEMAND_MIN_INTERVAL_MS). */
  demandIntervalMs?: number;
  log: Logger;
  now?: () => number;
}

export interface ProviderEntry extends Candidate {
  peer: Peer<ToProviderMessage> | null;
  /** The protocol revision its connection speaks (1 until it signs in). */
  revision: number;
  /** The demand list last sent on this connection (JSON), when, and the send that waits out the interval. */
  demandSent: string | null;
  demandSentAt: number;
  demandTimer: NodeJS.Timeout | null;
  connectedAt: number | null;
  adVersion: number;
  /** Offers standing, by id. */
  offers: Map<string, ActiveJob>;
  /** Jobs assigned to it and not ended. */
  running: Set<string>;
  /** Ends its jobs when it stays away past the grace. */
  graceTimer: NodeJS.Timeout | null;
}

export interface StandingOffer {
  id: string;
  provider: string;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

export interface ActiveJob extends StoredJob {
  /** Providers already offered this job, with the advertisement they had then: not asked again until they advertise anew. */
  tried: Map<string, number>;
  offer: StandingOffer | null;
  /** Messages for a buyer with no session following the job, delivered on `attach` (bounded). */
  pending: ToBuyerMessage[];
  pendingBytes: number;
  outputBytes: number;
  outputChunks: number;
  cancelRequested: boolean;
  lingerTimer: NodeJS.Timeout | null;
  /** Ends the job `expired` when no provider takes it within the queue timeout. */
  queueTimer: NodeJS.Timeout | null;
  /** The provider's last pull progress for this attempt, and when it was last relayed (relays are paced). */
  pull: PullProgressReport | null;
  pullRelayedAt: number;
  /**
   * The revision its buyer's session speaks (the latest to submit or attach; 1 for a job read
   * back after a restart until its buyer attaches): a provider with a payout address is offered
   * the job only at revision 3 (protocol/payout.ts).
   */
  buyerRevision: number;
}

export type JobEnd = { state: MarketJobState; reason: string; detail: string; usageSeconds: number; exitCode: number | null };

export interface BuyerSession {
  address: string;
  /** The protocol revision its connection speaks. */
  revision: number;
  peer: Peer<ToBuyerMessage>;
  following: Set<string>;
}

/** What the market answers a message it will not take (the server sends it, counted as malformed). */
export type Refusal = { type: 'error'; code: string; message: string; ref?: string };

export const refusal = (code: string, message: string, ref?: string): Refusal => ({ type: 'error', code, message, ...(ref ? { ref } : {}) });

export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class MarketState {
  readonly providers = new Map<string, ProviderEntry>();
  readonly jobs = new Map<string, ActiveJob>();
  readonly buyers = new Map<string, Set<BuyerSession>>();
  readonly offers = new Map<string, ActiveJob>();
  /** Connected, advertised providers by image held and score, for matching. */
  readonly ranked = new ProviderRanking<ProviderEntry>();
  /** What buyers asked for lately, the list as last worked out, and its timers (demand-sender.ts). */
  readonly demand = new DemandBook();
  demandList: DemandedImage[] = [];
  demandJson = '[]';
  demandTimer: NodeJS.Timeout | null = null;
  demandSweep: NodeJS.Timeout | null = null;
  readonly openByBuyer = new Map<string, number>();
  /** Advertisements are numbered market-wide, so a provider that comes back never reuses a number. */
  adCounter = 0;
  rematchScheduled = false;
  closed = false;
  readonly now: () => number;

  constructor(
    readonly store: MarketStore,
    readonly config: MarketConfig,
  ) {
    this.now = config.now ?? Date.now;
  }

  /** A stored job taken into memory (and counted against its buyer while open). */
  activate(stored: StoredJob, buyerRevision = 1): ActiveJob {
    const job: ActiveJob = { ...stored, tried: new Map(), offer: null, pending: [], pendingBytes: 0, outputBytes: 0, outputChunks: 0, cancelRequested: false, lingerTimer: null, queueTimer: null, pull: null, pullRelayedAt: 0, buyerRevision };
    this.jobs.set(job.id, job);
    if (!ENDED_STATES.has(job.state)) this.openByBuyer.set(job.buyer, (this.openByBuyer.get(job.buyer) ?? 0) + 1);
    return job;
  }

  /** The job no longer counts against its buyer's open jobs. */
  closeForBuyer(job: ActiveJob): void {
    const open = (this.openByBuyer.get(job.buyer) ?? 1) - 1;
    if (open > 0) this.openByBuyer.set(job.buyer, open);
    else this.openByBuyer.delete(job.buyer);
  }

  providerEntry(address: string): ProviderEntry {
    let p = this.providers.get(address);
    if (!p) {
      p = {
        address,
        ad: null,
        connected: false,
        reservedSlots: 0,
        reservedGpus: 0,
        lastOfferedAt: 0,
        peer: null,
        revision: 1,
        demandSent: null,
        demandSentAt: 0,
        demandTimer: null,
        connectedAt: null,
        adVersion: 0,
        offers: new Map(),
        running: new Set(),
        graceTimer: null,
      };
      this.providers.set(address, p);
    }
    return p;
  }

  /** The job, when it is assigned to `p` and not ended. */
  ownJob(p: ProviderEntry, jobId: string): ActiveJob | null {
    const job = this.jobs.get(jobId);
    if (!job || job.provider !== p.address || ENDED_STATES.has(job.state)) return null;
    return job;
  }
}
