/**
 * Whether a payment channel (buyer, provider, job id on one chain's escrow) was already used.
 * The escrow pays a voucher only beyond what the channel was already paid, so a job id that
 * was used before can only be paid with vouchers worth less than they say, or nothing: an
 * offer for such a channel is declined. "Used" means seen here (a market job, a usage report,
 * a voucher or a redemption in this agent's database) or paid anything on chain.
 */
import { Contract, type ContractRunner } from 'ethers';
import { checksummed } from '../chain/checksum.js';
import { ESCROW_ABI } from '../chain/abi.js';
import { toJobId } from '../chain/job-id.js';
import { ledgerHasChannel } from '../ledger/channel-seen.js';
import type { Db } from '../storage/database.js';
import { MarketStore } from './store.js';

export interface ChannelRef {
  chainId: number;
  escrow: string;
  buyer: string;
  provider: string;
  /** The market's job id as the offer names it (hashed to the contract's bytes32 like every voucher's). */
  marketJobId: string;
}

export interface ChannelUse {
  /** True when the channel must not take a new job: seen here, or paid on chain. */
  used: boolean;
  /** Seen in this agent's database (market_jobs, or the ledger's usage, vouchers, redemptions). */
  seenLocally: boolean;
  /** What the escrow already paid on this channel; null when the chain could not be read. */
  paidOnChain: bigint | null;
  /** Why the chain could not be read (the caller decides; declining is the safe answer). */
  chainError: string | null;
  /** In words the owner can read: why the channel counts as used; null when it does not. */
  reason: string | null;
}

/** The local half, synchronous: whether this database has seen the channel. */
export function channelSeenLocally(db: Db, ref: ChannelRef): boolean {
  // market_jobs is keyed by the market's job id alone: a row of any buyer means this id was taken here.
  if (new MarketStore(db).hasJob(ref.marketJobId)) return true;
  return ledgerHasChannel(db, { chainId: ref.chainId, escrow: checksummed(ref.escrow), buyer: checksummed(ref.buyer), provider: checksummed(ref.provider), jobKey: toJobId(ref.marketJobId) });
}

/**
 * Whether (buyer, provider, jobId) was already used: seen in this database, or paid on chain
 * (the escrow's `paid`). `chain` is a provider or signer connected to `ref.chainId`; null skips
 * the chain read (then `chainError` says so). Never throws for an unreadable chain.
 */
export async function channelUse(db: Db, chain: ContractRunner | null, ref: ChannelRef): Promise<ChannelUse> {
  const seenLocally = channelSeenLocally(db, ref);
  let paidOnChain: bigint | null = null;
  let chainError: string | null = null;
  if (chain === null) chainError = 'no connection to the chain';
  else {
    try {
      const escrow = new Contract(checksummed(ref.escrow), ESCROW_ABI, chain);
      paidOnChain = (await escrow.getFunction('paid')(checksummed(ref.buyer), checksummed(ref.provider), toJobId(ref.marketJobId))) as bigint;
    } catch (error) {
      chainError = (error as Error).message.slice(0, 300);
    }
  }
  const paid = paidOnChain !== null && paidOnChain > 0n;
  const used = seenLocally || paid;
  const reason = !used
    ? null
    : paid
      ? `the job id ${ref.marketJobId} was already paid ${paidOnChain} base units on chain by this buyer to this wallet; its vouchers would pay only beyond that, so new work on it could never be paid`
      : `the job id ${ref.marketJobId} was already used on this machine; a job id is taken once per buyer and wallet, because the escrow pays each only beyond what it already paid`;
  return { used, seenLocally, paidOnChain, chainError, reason };
}
