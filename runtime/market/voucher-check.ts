/**
 * Whether a voucher from the market counts as payment for a running job. Pure: the caller has
 * already stored every voucher whose signature is the buyer's (the wallet refuses the others),
 * so even one that does not count here can still be redeemed for what it promises.
 */
import { getAddress } from 'ethers';
import type { SignedVoucher } from '../wallet/schema.js';

/** A voucher must leave at least this long to redeem it. */
export const MIN_VOUCHER_LIFETIME_S = 15 * 60;

export interface VoucherExpectation {
  buyer: string;
  provider: string;
  /** keccak256 of the market's job id. */
  jobIdBytes32: string;
  /** The signer the voucher recovers to, for this job's chain and escrow (throws when unreadable). */
  recoveredSigner: string;
  nowSec: number;
  /** What the usage cost up to the report before the latest one. */
  minAmount: bigint;
  /** The buyer's escrow deposit and what this channel was already paid on chain; null when the chain could not be read. */
  chain: { deposit: bigint; alreadyPaid: bigint } | null;
}

/** Null when the voucher counts; otherwise why not, in words the owner can read. */
export function voucherProblem(signed: SignedVoucher, e: VoucherExpectation): string | null {
  const v = signed.voucher;
  if (getAddress(v.buyer) !== getAddress(e.buyer)) return `it names the buyer ${getAddress(v.buyer)}, not this job's buyer ${getAddress(e.buyer)}`;
  if (getAddress(v.provider) !== getAddress(e.provider)) return `it pays ${getAddress(v.provider)}, not this wallet`;
  if (v.jobId.toLowerCase() !== e.jobIdBytes32.toLowerCase()) return 'it is for another job';
  if (getAddress(e.recoveredSigner) !== getAddress(v.buyer)) return `it is not signed by the buyer (the signature recovers to ${getAddress(e.recoveredSigner)}): forged, or for another chain or escrow`;
  if (v.expiry < e.nowSec + MIN_VOUCHER_LIFETIME_S) return `it expires ${v.expiry < e.nowSec ? 'already' : 'too soon'} (${new Date(v.expiry * 1000).toISOString()}), leaving no time to redeem it`;
  const amount = BigInt(v.cumulativeAmount);
  if (amount < e.minAmount) return `it promises ${amount} base units, less than the ${e.minAmount} the reported usage costs`;
  if (e.chain === null) return 'the chain could not be read to check the buyer\'s deposit';
  const outstanding = amount > e.chain.alreadyPaid ? amount - e.chain.alreadyPaid : 0n;
  if (e.chain.deposit < outstanding) return `the buyer's escrow deposit (${e.chain.deposit}) no longer covers the ${outstanding} base units outstanding`;
  return null;
}
