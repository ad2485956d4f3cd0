/**
 * The provider's acceptance policy: one pure function that decides an offer, with a reason the
 * owner can read. The rules, in the order they are checked (the first that fails is the reason):
 * the wallet can sign → right chain → right escrow → the job id is new on its channel → buyer
 * not denied → image not denied → the offer has not expired → available now → GPUs (count,
 * VRAM) → CPUs → memory → disk → the report interval is within the owner's maximum → duration
 * fits the maximum and the schedule window → price at or above the floor → a free slot.
 * docs/protocol.md lists them for buyers. What is free is what the reservations
 * (runtime/jobs/reservations.ts) leave; an accepted offer's reservation is taken in the same
 * synchronous step as this decision.
 */
import { getAddress } from 'ethers';
import type { Capacity, FreeResources, Shortfall } from '../jobs/reservations.js';
import { describeShortfall } from '../jobs/reservations.js';
import type { DeclineReason, Offer } from '../../protocol/index.js';
import type { MarketSettings } from './settings.js';

export type { FreeResources } from '../jobs/reservations.js';

export interface AcceptanceContext {
  now: number;
  settings: MarketSettings;
  /** The owner's availability decision (schedule, idle, games, heat, snooze, policy). */
  availability: { run: boolean; detail: string };
  /** Seconds until the schedule window closes; null when no window limits work now. */
  windowSecondsLeft: number | null;
  free: FreeResources;
  /** The chain and escrow this wallet is paid on; null while the wallet is locked or missing. */
  wallet: { chainId: number; escrow: string } | null;
  /** Why this job id is not new on its channel (this agent took it before, or an offer of it is pending); null when it is new. */
  jobIdSeen: string | null;
  /** For showing prices. */
  formatTokens: (units: bigint) => string;
}

export interface OfferDecision {
  accept: boolean;
  reason: DeclineReason | null;
  detail: string;
}

/** The lowest price per hour this provider takes for a job on `gpus` GPUs. */
export function priceFloor(settings: Pick<MarketSettings, 'minPricePerGpuHour' | 'minPricePerJobHour'>, gpus: number): bigint {
  const perJob = BigInt(settings.minPricePerJobHour);
  const perGpus = BigInt(gpus) * BigInt(settings.minPricePerGpuHour);
  return perJob > perGpus ? perJob : perGpus;
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1).replace(/\.0$/, '')} h`;
}

function decline(reason: DeclineReason, detail: string): OfferDecision {
  return { accept: false, reason, detail: `Declined: ${detail}` };
}

export function decideOffer(offer: Offer, ctx: AcceptanceContext): OfferDecision {
  const { job } = offer;
  const s = ctx.settings;
  if (!ctx.wallet) return decline('wallet-locked', 'the wallet is locked, so this agent could not check or redeem the buyer\'s vouchers. Unlock it in the Wallet page.');
  if (offer.chainId !== ctx.wallet.chainId) return decline('wrong-chain', `the offer pays on chain ${offer.chainId}, but your wallet is on chain ${ctx.wallet.chainId}.`);
  if (!sameAddress(offer.escrow, ctx.wallet.escrow)) return decline('wrong-escrow', `the offer pays through escrow ${offer.escrow}, not the one your network uses (${getAddress(ctx.wallet.escrow)}).`);
  if (ctx.jobIdSeen) return jobIdUsed(offer, ctx.jobIdSeen);
  if (s.denyBuyers.some((b) => sameAddress(b, offer.buyer))) return decline('buyer-denied', `the buyer ${getAddress(offer.buyer)} is on your deny list.`);
  const deniedImage = s.denyImages.find((d) => job.image === d || job.image.startsWith(`${d}@`) || job.image.endsWith(d));
  if (deniedImage) return decline('image-denied', `the image ${job.image} is on your deny list (${deniedImage}).`);
  if (offer.expiresAt <= ctx.now) return decline('expired', 'the offer expired before it could be decided.');
  if (!ctx.availability.run) return decline('not-available', `not available now: ${ctx.availability.detail}`);

  if (job.gpus > ctx.free.gpus.length) {
    return decline('not-enough-gpus', `the job needs ${job.gpus} GPU${job.gpus === 1 ? '' : 's'}, and ${ctx.free.gpus.length} ${ctx.free.gpus.length === 1 ? 'is' : 'are'} free.`);
  }
  if (job.gpus > 0 && job.minVramMiB > 0) {
    const big = ctx.free.gpus.filter((g) => g.vramMiB !== null && g.vramMiB >= job.minVramMiB).length;
    if (big < job.gpus) return decline('not-enough-vram', `the job needs ${job.gpus} GPU${job.gpus === 1 ? '' : 's'} with ${job.minVramMiB} MiB of memory each; ${big} free ${big === 1 ? 'has' : 'have'} that much.`);
  }
  if (job.cpus > ctx.free.cpus) return decline('not-enough-cpus', `the job needs ${job.cpus} CPUs, and ${ctx.free.cpus} are free.`);
  if (job.memoryMiB > ctx.free.memoryMiB) return decline('not-enough-memory', `the job needs ${job.memoryMiB} MiB of memory, and ${ctx.free.memoryMiB} MiB are free.`);
  if (job.diskMiB > ctx.free.diskMiB) return decline('not-enough-disk', `the job needs ${job.diskMiB} MiB of disk, and ${ctx.free.diskMiB} MiB are free.`);
  if (job.reportIntervalSeconds > s.reportIntervalMaxSeconds) {
    return decline('report-interval-too-long', `the buyer asks for usage reports every ${job.reportIntervalSeconds} s, more than your maximum of ${s.reportIntervalMaxSeconds} s (unpaid work is bounded by two intervals).`);
  }
  if (job.maxDurationSeconds > s.maxJobSeconds) {
    return decline('duration-beyond-window', `the job may run ${duration(job.maxDurationSeconds)}, longer than your maximum of ${duration(s.maxJobSeconds)}.`);
  }
  if (ctx.windowSecondsLeft !== null && job.maxDurationSeconds > ctx.windowSecondsLeft) {
    return decline('duration-beyond-window', `the job may run ${duration(job.maxDurationSeconds)}, and your schedule window closes in ${duration(ctx.windowSecondsLeft)}.`);
  }
  const floor = priceFloor(s, job.gpus);
  const price = BigInt(job.pricePerHour);
  if (price < floor) {
    return decline('price-below-floor', `the price of ${ctx.formatTokens(price)} an hour is below your floor of ${ctx.formatTokens(floor)} an hour for ${job.gpus === 0 ? 'a CPU-only job' : `${job.gpus} GPU${job.gpus === 1 ? '' : 's'}`}.`);
  }
  if (ctx.free.slots <= 0) return decline('busy', 'this agent is running as many jobs as it takes at once.');
  return { accept: true, reason: null, detail: `Accepted: ${ctx.formatTokens(price)} an hour, up to ${duration(job.maxDurationSeconds)}.` };
}

/** The job id was seen on this channel before: its vouchers would be worth nothing beyond what the channel already holds. */
export function jobIdUsed(offer: Offer, why: string): OfferDecision {
  return decline('job-id-used', `the job id ${offer.jobId} is not new: ${why}. Payment channels are per (buyer, provider, job id), so work under a used job id could be paid with vouchers worth nothing; a market must give every job a new id.`);
}

const SHORTFALL_REASON: Record<Shortfall['resource'], DeclineReason> = {
  slots: 'busy',
  gpus: 'not-enough-gpus',
  vram: 'not-enough-vram',
  cpus: 'not-enough-cpus',
  memory: 'not-enough-memory',
  disk: 'not-enough-disk',
};

/** The decline when the reservation could not be taken (what the decision saw was taken meanwhile). */
export function declineForShortfall(s: Shortfall, capacity: Capacity): OfferDecision {
  return decline(SHORTFALL_REASON[s.resource], `${describeShortfall(s, capacity)}: running jobs and accepted offers hold the rest.`);
}
