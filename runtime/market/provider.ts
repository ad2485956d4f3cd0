/**
 * The provider side of the marketplace inside the agent: keeps the connection to the market,
 * advertises this machine on every change, and hands each message to its part: offers to the
 * OfferDesk (offer-desk.ts: decided and held), confirmed jobs to MarketJobs (market-jobs.ts:
 * run through the existing JobRunner, paid through paid-job.ts, their endings delivered). Jobs
 * go on for a grace while the market is unreachable, and stop past it.
 */
import { getAddress, type JsonRpcProvider } from 'ethers';
import { checksummed } from '../chain/checksum.js';
import { makeProvider } from '../chain/provider.js';
import { marketStopReasons } from '../jobs/outcome.js';
import type { JobProgressEvent } from '../jobs/schema.js';
import { IMAGES_REVISION, PAYEE_REVISION, type Advertisement, type ToProviderMessage } from '../../protocol/index.js';
import { MarketConnection, type LinkState, type Welcome } from './connection.js';
import { MarketJobs } from './market-jobs.js';
import { OfferDesk } from './offer-desk.js';
import type { PaidJob } from './paid-job.js';
import type { ProviderDeps, ProviderLink } from './provider-link.js';
import { buildAdvertisement } from './resources.js';
import { MarketStore } from './store.js';

export type { ProviderDeps } from './provider-link.js';

export class MarketProvider {
  private readonly conn: MarketConnection;
  private readonly offers: OfferDesk;
  private readonly jobs: MarketJobs;
  private readonly now: () => number;
  private welcome: Welcome | null = null;
  private lastAd = '';
  private adTimer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private rpc: JsonRpcProvider | null = null;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(
    readonly url: string,
    private readonly d: ProviderDeps,
  ) {
    this.now = d.now ?? Date.now;
    const address = d.money.wallet.address()!;
    this.conn = new MarketConnection({
      url,
      allowInsecure: d.settings().allowInsecure,
      agent: d.agent,
      address,
      signMessage: (text) => d.money.wallet.signMessage(text),
      log: d.log,
      backoff: d.backoff,
      onState: (state, reason, nextRetryAt) => this.linkChanged(state, reason, nextRetryAt),
      onWelcome: (w) => this.welcomed(w),
      onMessage: (m) => this.handle(m),
      onMalformed: (data, isBinary) => this.offers.malformedOffer(data, isBinary),
    });
    const link: ProviderLink = {
      url,
      store: new MarketStore(d.db),
      now: this.now,
      send: (message) => this.conn.send(message),
      connected: () => this.conn.connected,
      address: () => this.address,
      network: () => this.network,
      rpc: () => {
        const net = this.d.money.wallet.network();
        return (this.rpc ??= makeProvider(net.rpcUrl, net.chainId));
      },
      advertiseSoon: () => this.advertiseSoon(),
      revision: () => this.revision,
    };
    // No offer is taken while the payout address cannot be honoured (unreadable, or a market before revision 3).
    const deps: ProviderDeps = { ...d, availability: () => payoutAvailability(d.availability(), this.payout(), this.revision) };
    this.offers = new OfferDesk(deps, link);
    this.jobs = new MarketJobs(d, link);
    this.unsubscribe = d.runner.onChange((job) => this.jobs.jobChanged(job));
  }

  get address(): string {
    return checksummed(this.d.money.wallet.address()!);
  }

  /** The protocol revision the market chose: the image additions (protocol/images.ts) only at 2 and above. */
  get revision(): number {
    return this.welcome?.revision ?? 1;
  }

  /** A market job's image pull advanced (`job.progress` of its local job): tell the market, for its buyer. Not billed. */
  pullProgress(event: JobProgressEvent): void {
    if (this.revision < IMAGES_REVISION || event.bytes === undefined) return;
    const job = this.jobs.byLocalId(event.id);
    if (!job) return;
    this.conn.send({ type: 'pull-progress', progress: { jobId: job.row.job_id, bytes: event.bytes, totalBytes: event.totalBytes ?? null, bytesPerSecond: event.bytesPerSecond ?? null } });
  }

  get network(): { chainId: number; escrow: string } {
    const net = this.d.money.wallet.network();
    return { chainId: net.chainId, escrow: net.escrow };
  }

  start(): void {
    this.jobs.recover();
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.jobs.stopAll();
    this.offers.dropAll();
    if (this.adTimer) clearTimeout(this.adTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    await this.conn.stop();
    this.rpc?.destroy();
  }

  /** Something the advertisement is made of changed: send it again (debounced, only if it differs). */
  advertiseSoon(): void {
    if (this.adTimer || !this.conn.connected) return;
    this.adTimer = setTimeout(() => {
      this.adTimer = null;
      void this.advertise().catch((error: unknown) => this.d.log.warn('advertising failed', { error: (error as Error).message }));
    }, 200);
    this.adTimer.unref?.();
  }

  /** Market jobs not ended (an ended one stays tracked only until its ending is delivered). */
  runningJobs(): PaidJob[] {
    return this.jobs.running();
  }

  private linkChanged(state: LinkState, reason: string, nextRetryAt: number | null): void {
    // A new state of the connection replaces what the payout address said of the last one.
    this.payoutNote = null;
    if (state === 'connected') this.connectedReason = reason;
    if (state !== 'connected' && this.welcome) {
      this.welcome = null;
      this.lastAd = '';
      this.armGrace();
    }
    this.d.onLink(state, reason, nextRetryAt);
  }

  /** Running jobs go on for the grace while the agent reconnects; past it they stop. */
  private armGrace(): void {
    if (this.graceTimer || this.stopped) return;
    const graceS = this.d.settings().disconnectGraceSeconds;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      if (this.conn.connected) return;
      for (const j of this.jobs.running()) {
        void this.d.runner
          .stopJob(j.row.local_job_id, {
            state: 'cancelled',
            reason: marketStopReasons.marketUnreachable,
            detail: `Stopped: the market has been unreachable for ${graceS} s, so nobody could pay for more work. Vouchers already received stay redeemable on chain.`,
          })
          .catch(() => {});
      }
    }, graceS * 1000);
    this.graceTimer.unref?.();
  }

  private welcomed(w: Welcome): void {
    const net = this.network;
    if (w.chainId !== net.chainId || getAddress(w.escrow) !== getAddress(net.escrow)) {
      this.d.onLink(
        'refused',
        `The market pays on chain ${w.chainId} through escrow ${w.escrow}, but your wallet uses chain ${net.chainId} and escrow ${net.escrow}. Add the market's network in the Wallet settings and select it.`,
        null,
      );
    }
    this.welcome = w;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.jobs.reconnected();
    void this.advertise();
  }

  /** Why no work is taken for the payout address (unreadable, or a market before revision 3), as the link's state; null: nothing to say. */
  private payoutNote: string | null = null;
  private connectedReason = 'Connected to the market.';

  /** The link says why no work comes while the payout address cannot be honoured, and goes back to connected once it can. */
  private sayPayout(payout: { address: string | null; problem: string | null }): void {
    if (!this.welcome) return;
    const note = payout.problem ?? (payout.address && this.revision < PAYEE_REVISION ? payoutUnsupported(payout.address, this.revision) : null);
    if (note === this.payoutNote) return;
    this.payoutNote = note;
    this.d.onLink(note ? 'refused' : 'connected', note ?? this.connectedReason, null);
  }

  /** The payout address now, or why it cannot be read (then no work is taken: nobody could say where its pay goes). */
  private payout(): { address: string | null; problem: string | null } {
    try {
      return { address: this.d.money.wallet.payoutAddress(), problem: null };
    } catch (error) {
      return { address: null, problem: (error as Error).message };
    }
  }

  private async advertise(): Promise<void> {
    if (!this.conn.connected) return;
    const settings = this.d.settings();
    const payout = this.payout();
    const a = payoutAvailability(this.d.availability(), payout, this.revision);
    this.sayPayout(payout);
    const [gpus, capacity] = await Promise.all([this.d.listGpus(), this.d.runner.capacity()]);
    const net = this.network;
    const ad = buildAdvertisement({
      gpus,
      capacity,
      free: this.d.runner.reservations.free(capacity),
      scores: await this.d.scores(),
      settings,
      availability: { state: a.state, reason: a.detail.slice(0, 2000) },
      windowSecondsLeft: a.windowSecondsLeft,
      chainId: net.chainId,
      escrow: net.escrow,
      agent: this.d.agent,
      images: this.revision >= IMAGES_REVISION ? (this.d.images?.advertised() ?? null) : null,
      payee: this.revision >= PAYEE_REVISION ? payout.address : null,
    });
    const text = JSON.stringify(ad);
    if (text === this.lastAd) return;
    if (this.conn.send({ type: 'advertise', ad })) this.lastAd = text;
  }

  private handle(m: Exclude<ToProviderMessage, { type: 'challenge' | 'welcome' }>): void {
    switch (m.type) {
      case 'offer':
        this.offers.offerArrived(m.offer);
        return;
      case 'job-confirmed':
        void this.confirmed(m.offerId, m.jobId).catch((error: unknown) => this.d.log.error('starting a market job failed', { error: (error as Error).message }));
        return;
      case 'offer-withdrawn':
        if (this.offers.drop(m.offerId)) this.advertiseSoon();
        this.d.log.info('offer withdrawn by the market', { offerId: m.offerId, reason: m.reason });
        return;
      case 'voucher':
        void this.jobs.voucher(m.jobId, m.signed).catch((error: unknown) => this.d.log.warn('voucher handling failed', { jobId: m.jobId, error: (error as Error).message }));
        return;
      case 'cancel': {
        const j = this.jobs.get(m.jobId);
        if (j) void this.d.runner.stopJob(j.row.local_job_id, { state: 'cancelled', reason: marketStopReasons.buyerCancelled, detail: `Cancelled by the buyer${m.detail ? `: ${m.detail}` : '.'}` }).catch(() => {});
        return;
      }
      case 'demand':
        void this.d.images?.prePull(m.images).catch((error: unknown) => this.d.log.warn('pre-pulling failed', { error: (error as Error).message }));
        return;
      case 'resumed':
        for (const r of m.jobs) {
          const j = this.jobs.get(r.jobId);
          if (!r.known && j) {
            void this.d.runner
              .stopJob(j.row.local_job_id, { state: 'cancelled', reason: marketStopReasons.marketUnreachable, detail: 'Stopped: the market no longer knows this job, so nobody would pay for more work. Vouchers already received stay redeemable.' })
              .catch(() => {});
          }
        }
        return;
      case 'error':
        this.d.log.warn('the market reported an error', { code: m.code, message: m.message, ref: m.ref ?? null });
        return;
    }
  }

  private async confirmed(offerId: string, jobId: string): Promise<void> {
    const held = this.offers.takeConfirmed(offerId, jobId);
    if (held) await this.jobs.start(held);
  }
}

/** Why no work is taken from a market that cannot name the payout address in vouchers. */
function payoutUnsupported(address: string, revision: number): string {
  return `Earnings go to the payout address ${address}, but this market speaks protocol revision ${revision}, which cannot name a payee in vouchers (revision ${PAYEE_REVISION} can): no jobs are taken from it, so none is paid to this machine's own key. Use a market that speaks revision ${PAYEE_REVISION}, or clear the payout address.`;
}

/** The availability advertised: paused, with the reason, when the payout address cannot be honoured. */
function payoutAvailability<A extends { run: boolean; state: Advertisement['availability']['state']; detail: string }>(a: A, payout: { address: string | null; problem: string | null }, revision: number): A {
  if (payout.problem) return { ...a, run: false, state: 'paused', detail: payout.problem };
  if (payout.address && revision < PAYEE_REVISION) return { ...a, run: false, state: 'paused', detail: payoutUnsupported(payout.address, revision) };
  return a;
}
