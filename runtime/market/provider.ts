/**
 * The provider side of the marketplace inside the agent: keeps the connection to the market,
 * advertises this machine on every change, decides each offer (acceptance.ts), runs accepted
 * jobs through the existing JobRunner (one more source of jobs, not a second runner), reports
 * usage and checks vouchers (paid-job.ts), and ends jobs the market can no longer pay for.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { getAddress, type JsonRpcProvider } from 'ethers';
import { AppError } from '../errors.js';
import { toJobId } from '../chain/job-id.js';
import { makeProvider } from '../chain/provider.js';
import type { Gpu } from '../gpu/schema.js';
import type { JobRunner } from '../jobs/runner.js';
import { isFinalState, type Job, type JobSpecInput } from '../jobs/schema.js';
import { marketStopReasons } from '../jobs/outcome.js';
import { ranMsFromEvents } from '../jobs/store.js';
import { formatTokens } from '../ledger/tokens.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import type { MoneyService } from '../wallet/money.js';
import type { SignedVoucher } from '../wallet/schema.js';
import type { Capacity, Need } from '../jobs/reservations.js';
import { declineForShortfall, decideOffer, jobIdUsed, type OfferDecision } from './acceptance.js';
import { channelSeenLocally, channelUse, type ChannelRef, type ChannelUse } from './channel-history.js';
import { isLoopbackHost, MarketConnection, type LinkState, type Welcome } from './connection.js';
import { fetchInputs } from './inputs.js';
import { PaidJob } from './paid-job.js';
import { MarketStore, type MarketJobRow } from './store.js';
import { escrowReader, receiveMarketVoucher, type EscrowReader } from './voucher-intake.js';
import { MAX_OUTPUT_BYTES, offerSchema, OUTPUT_CHUNK_BYTES, readableOfferId, type Advertisement, type MarketJobState, type Offer, type ToProviderMessage } from '../../protocol/index.js';
import { buildAdvertisement } from './resources.js';
import type { MarketSettings } from './settings.js';

export interface ProviderDeps {
  home: string;
  db: Db;
  log: Logger;
  runner: JobRunner;
  money: MoneyService;
  agent: string;
  listGpus: () => Promise<Gpu[]>;
  /** Effective market settings now. */
  settings: () => MarketSettings;
  /** The owner's availability now (schedule, idle, pause, policy) and seconds left in the schedule window. */
  availability: () => { run: boolean; state: Advertisement['availability']['state']; detail: string; windowSecondsLeft: number | null };
  scores: () => Promise<ReadonlyMap<string, number>>;
  onLink: (state: LinkState, reason: string, nextRetryAt: number | null) => void;
  onChange: () => void;
  now?: () => number;
  backoff?: { minMs: number; maxMs: number };
}

/** An accepted offer can hold its reservation this long at most, whatever its `expiresAt` says, unless confirmed. */
export const MAX_OFFER_HOLD_MS = 60_000;
/** After the offer's expiry, a confirmation may still be on its way for this long. */
const CONFIRM_SLACK_MS = 5000;
/** A chain read that takes longer than this counts as unreadable. */
const CHAIN_READ_TIMEOUT_MS = 5000;

/** An offer that holds a reservation: from the decision to its confirmation (or its end). */
interface Pending {
  offer: Offer;
  /** Its reservation's id in the runner's book. */
  reservation: string;
  /** The acceptance was sent: only now may the market confirm it. */
  accepted: boolean;
  timer: NodeJS.Timeout;
}

/** What an offer's job needs, as a reservation. */
export function offerNeed(offer: Offer): Need {
  const { job } = offer;
  return { kind: 'offer', gpus: job.gpus, minVramMiB: job.minVramMiB, cpus: job.cpus, memoryMiB: job.memoryMiB, diskMiB: job.diskMiB };
}

export class MarketProvider {
  private readonly conn: MarketConnection;
  private readonly store: MarketStore;
  private readonly now: () => number;
  private readonly jobs = new Map<string, PaidJob>();
  private readonly pending = new Map<string, Pending>();
  /** Offers between their arrival and their reply (a second offer with one of these ids is a duplicate). */
  private readonly deciding = new Set<string>();
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
    this.store = new MarketStore(d.db);
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
      onMalformed: (data, isBinary) => this.malformedOffer(data, isBinary),
    });
    this.unsubscribe = d.runner.onChange((job) => this.jobChanged(job));
  }

  get address(): string {
    return getAddress(this.d.money.wallet.address()!);
  }

  get network(): { chainId: number; escrow: string } {
    const net = this.d.money.wallet.network();
    return { chainId: net.chainId, escrow: net.escrow };
  }

  start(): void {
    this.recover();
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    for (const j of this.jobs.values()) j.stop();
    for (const id of [...this.pending.keys()]) this.drop(id);
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
    return [...this.jobs.values()].filter((j) => this.store.job(j.jobId)?.ended_at == null);
  }

  // ── connection ───────────────────────────────────────────────────────────

  private linkChanged(state: LinkState, reason: string, nextRetryAt: number | null): void {
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
      for (const j of this.runningJobs()) {
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
    const open = this.store.undelivered();
    this.conn.send({ type: 'resume', jobs: open.slice(0, 64).map((r) => ({ jobId: r.job_id, usageSeconds: r.reported_seconds })) });
    for (const j of this.jobs.values()) j.reconnected();
    for (const row of open) if (row.ended_at !== null) void this.sendEnding(row);
    void this.advertise();
  }

  private async advertise(): Promise<void> {
    if (!this.conn.connected) return;
    const settings = this.d.settings();
    const a = this.d.availability();
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
    });
    const text = JSON.stringify(ad);
    if (text === this.lastAd) return;
    if (this.conn.send({ type: 'advertise', ad })) this.lastAd = text;
  }

  // ── messages from the market ─────────────────────────────────────────────

  private handle(m: Exclude<ToProviderMessage, { type: 'challenge' | 'welcome' }>): void {
    switch (m.type) {
      case 'offer':
        this.offerArrived(m.offer);
        return;
      case 'job-confirmed':
        void this.confirmed(m.offerId, m.jobId).catch((error: unknown) => this.d.log.error('starting a market job failed', { error: (error as Error).message }));
        return;
      case 'offer-withdrawn':
        if (this.drop(m.offerId)) this.advertiseSoon();
        this.d.log.info('offer withdrawn by the market', { offerId: m.offerId, reason: m.reason });
        return;
      case 'voucher':
        void this.voucher(m.jobId, m.signed).catch((error: unknown) => this.d.log.warn('voucher handling failed', { jobId: m.jobId, error: (error as Error).message }));
        return;
      case 'cancel': {
        const j = this.jobs.get(m.jobId);
        if (j) void this.d.runner.stopJob(j.row.local_job_id, { state: 'cancelled', reason: marketStopReasons.buyerCancelled, detail: `Cancelled by the buyer${m.detail ? `: ${m.detail}` : '.'}` }).catch(() => {});
        return;
      }
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

  // ── offers: one reservation each, taken in one synchronous step with the decision ──

  /** An offerId already in use (deciding, holding, or decided) is refused; the first offer stands. */
  private offerIdTaken(offerId: string): boolean {
    return this.deciding.has(offerId) || this.pending.has(offerId) || this.store.offerSeen(offerId);
  }

  private offerArrived(offer: Offer): void {
    if (this.offerIdTaken(offer.offerId)) {
      this.d.log.warn('an offer reused an offerId; refused, the first one stands', { offerId: offer.offerId, jobId: offer.jobId });
      // No offer-reply: it would answer the first offer, which has this id too.
      this.conn.send({ type: 'error', code: 'duplicate-offer', message: `The offerId ${offer.offerId} was already used by an earlier offer; this offer is refused and the earlier one stands. Give every offer a new id.`, ref: offer.offerId });
      return;
    }
    this.deciding.add(offer.offerId);
    void this.decide(offer)
      .catch((error: unknown) => this.d.log.error('deciding an offer failed', { offerId: offer.offerId, error: (error as Error).message }))
      .finally(() => this.deciding.delete(offer.offerId));
  }

  /** A message that failed its schema: the connection answered with an error; an offer whose id can be read is also declined. */
  private malformedOffer(data: unknown, isBinary: boolean): void {
    if (isBinary) return;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    } catch {
      return;
    }
    const offerId = readableOfferId(json);
    if (!offerId || this.offerIdTaken(offerId)) return;
    const problem = offerProblem(json);
    this.d.log.warn('an offer failed its schema; declined', { offerId, problem });
    this.conn.send({ type: 'offer-reply', offerId, accept: false, reason: 'invalid-offer', detail: `Declined: the offer is not valid: ${problem}`.slice(0, 2000) });
  }

  private async decide(offer: Offer): Promise<void> {
    const key = `offer:${offer.offerId}`;
    let decision: OfferDecision;
    try {
      const capacity = await this.d.runner.capacity();
      // From here to the reservation nothing awaits: no other decision can see what this one takes.
      decision = this.decideNow(offer, capacity);
      if (decision.accept) {
        const taken = this.d.runner.reservations.take(key, offerNeed(offer), capacity);
        if (taken.ok) this.hold(offer, key);
        else decision = declineForShortfall(taken.shortfall, capacity);
      }
      // Checks that need to wait run while the reservation is held.
      if (decision.accept) decision = (await this.checkHeld(offer, key)) ?? decision;
    } catch (error) {
      decision = { accept: false, reason: 'not-available', detail: `Declined: the agent could not decide this offer: ${(error as Error).message}` };
    }
    const held = this.pending.get(offer.offerId);
    const withdrawn = decision.accept && !held;
    if (withdrawn) decision = { accept: false, reason: 'expired', detail: 'Declined: the offer was withdrawn (or its hold ran out) before it was decided.' };
    if (!decision.accept) this.drop(offer.offerId);
    const { job } = offer;
    this.store.recordOffer({
      offerId: offer.offerId,
      jobId: offer.jobId,
      at: this.now(),
      buyer: getAddress(offer.buyer),
      image: job.image,
      gpus: job.gpus,
      pricePerHour: job.pricePerHour,
      maxDurationSeconds: job.maxDurationSeconds,
      accepted: decision.accept,
      reason: decision.reason,
      detail: decision.detail,
    });
    this.d.log.info('offer decided', { offerId: offer.offerId, jobId: offer.jobId, accept: decision.accept, reason: decision.reason });
    if (held && decision.accept) held.accepted = true;
    if (!withdrawn) this.conn.send({ type: 'offer-reply', offerId: offer.offerId, accept: decision.accept, reason: decision.reason, detail: decision.detail });
    this.d.onChange();
    this.advertiseSoon();
  }

  /** The acceptance policy over what the reservations leave free now. Synchronous. */
  private decideNow(offer: Offer, capacity: Capacity): OfferDecision {
    const a = this.d.availability();
    const { decimals, symbol } = this.d.money.wallet.tokenMeta();
    return decideOffer(offer, {
      now: this.now(),
      settings: this.d.settings(),
      availability: { run: a.run, detail: a.detail },
      windowSecondsLeft: a.windowSecondsLeft,
      free: this.d.runner.reservations.free(capacity),
      wallet: this.d.money.wallet.isUnlocked() ? this.network : null,
      jobIdSeen: this.jobIdSeen(offer),
      formatTokens: (units) => `${formatTokens(units, decimals)} ${symbol}`,
    });
  }

  /** The payment channel an offer's job would be paid on. */
  private channelOf(offer: Offer): ChannelRef {
    return { chainId: offer.chainId, escrow: offer.escrow, buyer: offer.buyer, provider: this.address, marketJobId: offer.jobId };
  }

  /** Why the job id is not new to this agent (it took the job, its ledger has the channel, or it holds an offer of it); null when new. Synchronous. */
  private jobIdSeen(offer: Offer): string | null {
    const row = this.store.job(offer.jobId);
    if (row) return `this agent took it on ${new Date(row.accepted_at).toISOString()} (buyer ${row.buyer})`;
    if ([...this.pending.values()].some((p) => p.offer.jobId === offer.jobId)) return 'this agent holds another offer of it';
    if (this.d.money.wallet.isUnlocked() && channelSeenLocally(this.d.db, this.channelOf(offer))) return 'this agent\'s ledger has usage, vouchers or a redemption on its channel';
    return null;
  }

  /** Holds the reservation until the offer is confirmed, withdrawn, or its hold runs out. */
  private hold(offer: Offer, reservation: string): void {
    const holdMs = Math.min(Math.max(0, offer.expiresAt - this.now()), MAX_OFFER_HOLD_MS) + CONFIRM_SLACK_MS;
    const timer = setTimeout(() => {
      if (this.drop(offer.offerId)) this.advertiseSoon();
    }, holdMs);
    timer.unref?.();
    this.pending.set(offer.offerId, { offer, reservation, accepted: false, timer });
  }

  /** Forgets a held offer and releases its reservation; false when none was held. */
  private drop(offerId: string): boolean {
    const p = this.pending.get(offerId);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(offerId);
    this.d.runner.reservations.release(p.reservation);
    return true;
  }

  /** What needs to wait, once the reservation is held: the channel is new on chain; the sandbox would take the job. */
  private async checkHeld(offer: Offer, reservation: string): Promise<OfferDecision | null> {
    const use = await this.channelOnChain(offer);
    if (use.chainError !== null || use.paidOnChain === null) {
      return {
        accept: false,
        reason: 'chain-unreadable',
        detail: `Declined: the escrow could not be read on chain to check that this job's payment channel is new (${use.chainError ?? 'no answer'}). Check the network's RPC in the Wallet settings.`,
      };
    }
    const paid = use.paidOnChain;
    if (paid > 0n) {
      const { decimals, symbol } = this.d.money.wallet.tokenMeta();
      return jobIdUsed(offer, `its channel was already paid ${formatTokens(paid, decimals)} ${symbol} on chain`);
    }
    // The runner's own admission, dry: a spec it would refuse is declined now, with its words.
    const refusal = await this.d.runner.check(offerToSpec(offer, this.localIdFor(offer.jobId)), reservation);
    if (refusal) return { accept: false, reason: 'sandbox-refused', detail: `Declined: the sandbox refuses this job: ${refusal.message}` };
    return null;
  }

  /** The channel's use, read on chain (channel-history.ts), within CHAIN_READ_TIMEOUT_MS. */
  private async channelOnChain(offer: Offer): Promise<Pick<ChannelUse, 'paidOnChain' | 'chainError'>> {
    const net = this.d.money.wallet.network();
    this.rpc ??= makeProvider(net.rpcUrl, net.chainId);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Pick<ChannelUse, 'paidOnChain' | 'chainError'>>((resolve) => (timer = setTimeout(() => resolve({ paidOnChain: null, chainError: `no answer in ${CHAIN_READ_TIMEOUT_MS / 1000} s` }), CHAIN_READ_TIMEOUT_MS)));
    try {
      return await Promise.race([channelUse(this.d.db, this.rpc, this.channelOf(offer)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The market confirmed our acceptance: the job is ours to run, within the reservation its offer holds. */
  private async confirmed(offerId: string, jobId: string): Promise<void> {
    const p = this.pending.get(offerId);
    if (!p || !p.accepted || p.offer.jobId !== jobId) {
      this.d.log.warn('a confirmation for an offer this agent does not hold accepted', { offerId, jobId });
      this.conn.send({ type: 'error', code: 'unknown-offer', message: `Offer ${offerId} (job ${jobId}) is not one this agent accepted and still holds; nothing is started.`, ref: offerId.slice(0, 64) });
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(offerId);
    const { offer } = p;
    const { job } = offer;
    const localId = this.localIdFor(offer.jobId);
    const row: MarketJobRow = {
      job_id: offer.jobId,
      local_job_id: localId,
      market_url: this.url,
      buyer: getAddress(offer.buyer),
      price_per_hour: job.pricePerHour,
      report_interval_s: job.reportIntervalSeconds,
      chain_id: offer.chainId,
      escrow: getAddress(offer.escrow),
      accepted_at: this.now(),
      report_seq: 0,
      reported_seconds: 0,
      paid_up_to: '0',
      last_voucher_at: null,
      voucher_problem: null,
      ended_at: null,
      end_state: null,
      end_reason: null,
      final_sent: 0,
    };
    try {
      // A job id is taken once (acceptance declines one this agent has seen): this never replaces a row.
      this.store.insertJob(row);
    } catch (error) {
      this.d.runner.reservations.release(p.reservation);
      throw error;
    }
    const tracked = this.track(row);
    const spec = offerToSpec(offer, localId);
    try {
      const inputs = job.inputs.length ? await fetchInputs(job.inputs, { allowLoopback: isLoopbackHost(new URL(this.url).hostname) }) : undefined;
      // The runner turns the offer's reservation into the job's, checked again against the capacity now.
      await this.d.runner.submit(spec, { inputs, reservation: p.reservation });
    } catch (error) {
      this.d.runner.reservations.release(p.reservation);
      const message = error instanceof AppError ? error.message : (error as Error).message;
      tracked.stop();
      this.jobs.delete(offer.jobId);
      const busy = error instanceof AppError && error.code === 'no-capacity';
      this.recordEnd(row, 'failed', busy ? 'busy' : 'sandbox-refused', busy ? message : `The sandbox refused the job: ${message}`, 0, null);
    }
    this.d.onChange();
    this.advertiseSoon();
  }

  private localIdFor(marketJobId: string): string {
    const base = `m-${marketJobId}`.slice(0, 56);
    return this.d.runner.get(base) ? `${base}-${crypto.randomBytes(3).toString('hex')}` : base;
  }

  private track(row: MarketJobRow): PaidJob {
    const job = new PaidJob(row, {
      db: this.d.db,
      log: this.d.log,
      now: this.now,
      provider: this.address,
      signMessage: (text) => this.d.money.wallet.signMessage(text),
      usageSeconds: (localId) => Math.floor(ranMsFromEvents(this.d.runner.events(localId), this.now()) / 1000),
      send: (report) => this.conn.send({ type: 'usage', report }),
      recordOwed: (r, amount, seconds) =>
        this.d.money.ledger.recordUsageReport({ chainId: r.chain_id, escrow: r.escrow, buyer: r.buyer, provider: this.address }, { marketJobId: toJobId(r.job_id), amount, at: this.now(), usage: { seconds } }),
      connected: () => this.conn.connected,
      stopUnpaid: (r, detail) => void this.d.runner.stopJob(r.local_job_id, { state: 'cancelled', reason: marketStopReasons.unpaid, detail }).catch(() => {}),
      onChange: () => this.d.onChange(),
    });
    this.jobs.set(row.job_id, job);
    return job;
  }

  // ── money ────────────────────────────────────────────────────────────────

  /** Checked against the job's channel, then counted or kept as refused evidence (voucher-intake.ts). */
  private async voucher(jobId: string, signed: SignedVoucher): Promise<void> {
    const deps = {
      db: this.d.db,
      ledger: this.d.money.ledger,
      log: this.d.log,
      now: this.now,
      provider: this.address,
      reader: (chainId: number, escrow: string) => this.escrowReaderFor(chainId, escrow),
      autoRedeem: () => this.d.money.wallet.autoRedeem(),
      onChange: () => this.d.onChange(),
    };
    await receiveMarketVoucher(deps, jobId, signed, this.jobs.get(jobId));
  }

  private escrowReaderFor(chainId: number, escrow: string): EscrowReader | null {
    try {
      const net = this.d.money.wallet.network();
      if (net.chainId !== chainId) return null;
      this.rpc ??= makeProvider(net.rpcUrl, net.chainId);
      return escrowReader(this.rpc, escrow);
    } catch {
      return null;
    }
  }

  // ── job endings ──────────────────────────────────────────────────────────

  private jobChanged(job: Job): void {
    if (!job.marketJobId) return;
    const row = this.store.jobOfLocal(job.id);
    if (!row) return;
    if (job.state === 'running' || job.state === 'paused') {
      const tracked = this.jobs.get(row.job_id);
      if (job.state === 'running' && tracked && row.report_seq === 0 && job.startedAt !== null) {
        if (!this.timerStarted.has(row.job_id)) {
          this.timerStarted.add(row.job_id);
          tracked.start();
          this.conn.send({ type: 'job-started', jobId: row.job_id });
        }
      } else if (tracked) this.conn.send({ type: 'job-paused', jobId: row.job_id, paused: job.state === 'paused', detail: job.detail.slice(0, 2000) });
      this.advertiseSoon();
      return;
    }
    if (!isFinalState(job.state)) return;
    const tracked = this.jobs.get(row.job_id);
    tracked?.stop();
    this.timerStarted.delete(row.job_id);
    const seconds = job.usage ? Math.floor(job.usage.runMs / 1000) : row.reported_seconds;
    const state: MarketJobState = job.reason === marketStopReasons.unpaid ? 'unpaid' : job.reason === marketStopReasons.marketUnreachable ? 'market-unreachable' : job.state;
    void (async () => {
      // Kept in this.jobs until the ending is delivered: a final report that could not be sent
      // (no connection, e.g. the job ended while the agent was down) is resent on reconnect,
      // before the ending, so the buyer pays for the end of the run.
      if (tracked) await tracked.report(true, seconds);
      // The runner collects the job's /output after recording its end: wait for that.
      await this.d.runner.wait(job.id).catch(() => {});
      this.recordEnd(this.store.job(row.job_id)!, state, job.reason, job.detail, seconds, job.exitCode);
      this.advertiseSoon();
    })().catch((error: unknown) => this.d.log.error('ending a market job failed', { jobId: row.job_id, error: (error as Error).message }));
  }

  private readonly timerStarted = new Set<string>();

  private recordEnd(row: MarketJobRow, state: MarketJobState, reason: string, detail: string, seconds: number, exitCode: number | null): void {
    this.store.recordEnd(row.job_id, { at: this.now(), state, endReason: `${reason}\n${exitCode ?? ''}\n${detail}`.slice(0, 2000), seconds });
    const updated = this.store.job(row.job_id)!;
    this.d.onChange();
    void this.sendEnding(updated);
  }

  /** The outputs, then the end; marked sent only when the market got it (else resent on reconnect). */
  private async sendEnding(row: MarketJobRow): Promise<void> {
    if (!this.conn.connected || row.final_sent) return;
    const [reason = '', exit = '', ...rest] = (row.end_reason ?? '').split('\n');
    for (const chunk of readOutputChunks(path.join(this.d.home, 'jobs', row.local_job_id, 'output'), row.job_id)) {
      if (!this.conn.send({ type: 'output', chunk })) return;
    }
    const ok = this.conn.send({
      type: 'job-ended',
      end: { jobId: row.job_id, state: (row.end_state ?? 'failed') as MarketJobState, reason: reason.slice(0, 64), detail: rest.join('\n').slice(0, 2000), usageSeconds: row.reported_seconds, exitCode: exit === '' ? null : Number(exit) },
    });
    if (!ok) return;
    this.store.markEndingSent(row.job_id);
    this.jobs.delete(row.job_id);
  }

  /** After an agent restart: re-track market jobs still running; resend endings not yet delivered. */
  private recover(): void {
    for (const row of this.store.unended()) {
      const job = this.d.runner.get(row.local_job_id);
      if (!job) {
        this.recordEnd(row, 'failed', 'agent-restarted', 'The agent stopped before this job started.', row.reported_seconds, null);
        continue;
      }
      const tracked = this.track(row);
      if (isFinalState(job.state)) {
        this.jobChanged(job);
        continue;
      }
      if (job.state === 'running' || job.state === 'paused') {
        this.timerStarted.add(row.job_id);
        tracked.start();
      }
    }
  }
}

/** Where an offer fails its schema, in words ("job.pricePerHour: at most …"). */
function offerProblem(json: unknown): string {
  const parsed = offerSchema.safeParse((json as { offer?: unknown }).offer);
  if (parsed.success) return 'the message around it is malformed';
  const first = parsed.error.issues[0];
  return `${first?.path.length ? first.path.join('.') : 'offer'}: ${first?.message ?? 'invalid'}`.slice(0, 500);
}

/** The job spec an offer becomes: the same runner, the same sandbox as any other job. */
export function offerToSpec(offer: Offer, localId: string): JobSpecInput {
  const { job } = offer;
  return {
    id: localId,
    marketJobId: toJobId(offer.jobId),
    image: job.image,
    command: job.command,
    env: job.env,
    gpus: job.gpus,
    cpus: job.cpus,
    memoryMiB: job.memoryMiB,
    diskMiB: job.diskMiB,
    outputMiB: job.outputMiB,
    timeoutSeconds: job.maxDurationSeconds,
    network: job.network,
  };
}

/** Regular files under the output folder (no links followed), cut into protocol chunks, capped. */
export function* readOutputChunks(dir: string, jobId: string): Generator<{ jobId: string; path: string; index: number; last: boolean; sha256: string | null; data: string }> {
  let total = 0;
  const walk = function* (rel: string): Generator<string> {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) yield* walk(r);
      else if (e.isFile() && /^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/.test(r)) yield r;
    }
  };
  for (const rel of walk('')) {
    let data: Buffer;
    try {
      const st = fs.lstatSync(path.join(dir, rel));
      if (!st.isFile() || total + st.size > MAX_OUTPUT_BYTES) continue;
      data = fs.readFileSync(path.join(dir, rel));
    } catch {
      continue;
    }
    total += data.length;
    const sha256 = crypto.createHash('sha256').update(data).digest('hex');
    const count = Math.max(1, Math.ceil(data.length / OUTPUT_CHUNK_BYTES));
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      yield { jobId, path: rel, index: i, last, sha256: last ? sha256 : null, data: data.subarray(i * OUTPUT_CHUNK_BYTES, (i + 1) * OUTPUT_CHUNK_BYTES).toString('base64') };
    }
  }
}
