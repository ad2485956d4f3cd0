/**
 * Offers, from arrival to their answer: one reservation each, taken in one synchronous step with
 * the decision (acceptance.ts), held until the market confirms the acceptance, withdraws the
 * offer, or the hold runs out. The first offer with an id stands; a reused id is refused.
 */
import { checksummed } from '../chain/checksum.js';
import type { Capacity } from '../jobs/reservations.js';
import { formatTokens } from '../ledger/tokens.js';
import { readableOfferId, type Offer } from '../../protocol/index.js';
import { declineForShortfall, decideOffer, jobIdUsed, type OfferDecision } from './acceptance.js';
import { channelSeenLocally, channelUse, type ChannelRef, type ChannelUse } from './channel-history.js';
import { localIdFor, offerNeed, offerProblem, offerToSpec } from './offer-spec.js';
import type { ProviderDeps, ProviderLink } from './provider-link.js';

/** An accepted offer can hold its reservation this long at most, whatever its `expiresAt` says, unless confirmed. */
export const MAX_OFFER_HOLD_MS = 60_000;
/** After the offer's expiry, a confirmation may still be on its way for this long. */
const CONFIRM_SLACK_MS = 5000;
/** A chain read that takes longer than this counts as unreadable. */
const CHAIN_READ_TIMEOUT_MS = 5000;

/** An offer that holds a reservation: from the decision to its confirmation (or its end). */
export interface HeldOffer {
  offer: Offer;
  /** Its reservation's id in the runner's book. */
  reservation: string;
  /** The acceptance was sent: only now may the market confirm it. */
  accepted: boolean;
  timer: NodeJS.Timeout;
}

export class OfferDesk {
  private readonly pending = new Map<string, HeldOffer>();
  /** Offers between their arrival and their reply (a second offer with one of these ids is a duplicate). */
  private readonly deciding = new Set<string>();

  constructor(
    private readonly d: ProviderDeps,
    private readonly link: ProviderLink,
  ) {}

  /** Lets every held offer go (the agent stops). */
  dropAll(): void {
    for (const id of [...this.pending.keys()]) this.drop(id);
  }

  /** An offerId already in use (deciding, holding, or decided) is refused; the first offer stands. */
  private offerIdTaken(offerId: string): boolean {
    return this.deciding.has(offerId) || this.pending.has(offerId) || this.link.store.offerSeen(offerId);
  }

  offerArrived(offer: Offer): void {
    if (this.offerIdTaken(offer.offerId)) {
      this.d.log.warn('an offer reused an offerId; refused, the first one stands', { offerId: offer.offerId, jobId: offer.jobId });
      // No offer-reply: it would answer the first offer, which has this id too.
      this.link.send({ type: 'error', code: 'duplicate-offer', message: `The offerId ${offer.offerId} was already used by an earlier offer; this offer is refused and the earlier one stands. Give every offer a new id.`, ref: offer.offerId });
      return;
    }
    this.deciding.add(offer.offerId);
    void this.decide(offer)
      .catch((error: unknown) => this.d.log.error('deciding an offer failed', { offerId: offer.offerId, error: (error as Error).message }))
      .finally(() => this.deciding.delete(offer.offerId));
  }

  /** A message that failed its schema: the connection answered with an error; an offer whose id can be read is also declined. */
  malformedOffer(data: unknown, isBinary: boolean): void {
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
    this.link.send({ type: 'offer-reply', offerId, accept: false, reason: 'invalid-offer', detail: `Declined: the offer is not valid: ${problem}`.slice(0, 2000) });
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
    this.link.store.recordOffer({
      offerId: offer.offerId,
      jobId: offer.jobId,
      at: this.link.now(),
      buyer: checksummed(offer.buyer),
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
    if (!withdrawn) this.link.send({ type: 'offer-reply', offerId: offer.offerId, accept: decision.accept, reason: decision.reason, detail: decision.detail });
    this.d.onChange();
    this.link.advertiseSoon();
  }

  /** The acceptance policy over what the reservations leave free now. Synchronous. */
  private decideNow(offer: Offer, capacity: Capacity): OfferDecision {
    const a = this.d.availability();
    const { decimals, symbol } = this.d.money.wallet.tokenMeta();
    return decideOffer(offer, {
      now: this.link.now(),
      settings: this.d.settings(),
      availability: { run: a.run, detail: a.detail },
      windowSecondsLeft: a.windowSecondsLeft,
      free: this.d.runner.reservations.free(capacity),
      wallet: this.d.money.wallet.isUnlocked() ? this.link.network() : null,
      jobIdSeen: this.jobIdSeen(offer),
      formatTokens: (units) => `${formatTokens(units, decimals)} ${symbol}`,
    });
  }

  /** The payment channel an offer's job would be paid on. */
  private channelOf(offer: Offer): ChannelRef {
    return { chainId: offer.chainId, escrow: offer.escrow, buyer: offer.buyer, provider: this.link.address(), marketJobId: offer.jobId };
  }

  /** Why the job id is not new to this agent (it took the job, its ledger has the channel, or it holds an offer of it); null when new. Synchronous. */
  private jobIdSeen(offer: Offer): string | null {
    const row = this.link.store.job(offer.jobId);
    if (row) return `this agent took it on ${new Date(row.accepted_at).toISOString()} (buyer ${row.buyer})`;
    if ([...this.pending.values()].some((p) => p.offer.jobId === offer.jobId)) return 'this agent holds another offer of it';
    if (this.d.money.wallet.isUnlocked() && channelSeenLocally(this.d.db, this.channelOf(offer))) return 'this agent\'s ledger has usage, vouchers or a redemption on its channel';
    return null;
  }

  /** Holds the reservation until the offer is confirmed, withdrawn, or its hold runs out. */
  private hold(offer: Offer, reservation: string): void {
    const holdMs = Math.min(Math.max(0, offer.expiresAt - this.link.now()), MAX_OFFER_HOLD_MS) + CONFIRM_SLACK_MS;
    const timer = setTimeout(() => {
      if (this.drop(offer.offerId)) this.link.advertiseSoon();
    }, holdMs);
    timer.unref?.();
    this.pending.set(offer.offerId, { offer, reservation, accepted: false, timer });
  }

  /** Forgets a held offer and releases its reservation; false when none was held. */
  drop(offerId: string): boolean {
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
    const refusal = await this.d.runner.check(offerToSpec(offer, localIdFor(this.d.runner, offer.jobId)), reservation);
    if (refusal) return { accept: false, reason: 'sandbox-refused', detail: `Declined: the sandbox refuses this job: ${refusal.message}` };
    // The image: its manifest read, the size the offer claims checked, room made in the budget (or declined), before a byte is pulled.
    const fit = await this.d.images?.checkOffer(offer.job.image, { imageSizeBytes: offer.job.imageSizeBytes, maxPullSeconds: offer.job.maxPullSeconds });
    if (fit && !fit.ok) return { accept: false, reason: fit.reason, detail: fit.detail };
    return null;
  }

  /** The channel's use, read on chain (channel-history.ts), within CHAIN_READ_TIMEOUT_MS. */
  private async channelOnChain(offer: Offer): Promise<Pick<ChannelUse, 'paidOnChain' | 'chainError'>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Pick<ChannelUse, 'paidOnChain' | 'chainError'>>((resolve) => (timer = setTimeout(() => resolve({ paidOnChain: null, chainError: `no answer in ${CHAIN_READ_TIMEOUT_MS / 1000} s` }), CHAIN_READ_TIMEOUT_MS)));
    try {
      return await Promise.race([channelUse(this.d.db, this.link.rpc(), this.channelOf(offer)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The held, accepted offer a confirmation names, off the desk with its reservation (which the caller now owns); null, and an error to the market, when there is none. */
  takeConfirmed(offerId: string, jobId: string): HeldOffer | null {
    const p = this.pending.get(offerId);
    if (!p || !p.accepted || p.offer.jobId !== jobId) {
      this.d.log.warn('a confirmation for an offer this agent does not hold accepted', { offerId, jobId });
      this.link.send({ type: 'error', code: 'unknown-offer', message: `Offer ${offerId} (job ${jobId}) is not one this agent accepted and still holds; nothing is started.`, ref: offerId.slice(0, 64) });
      return null;
    }
    clearTimeout(p.timer);
    this.pending.delete(offerId);
    return p;
  }
}
