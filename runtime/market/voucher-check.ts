/**
 * The voucher check, pure: what a voucher is worth on chain, and whether it pays a running job.
 *
 * Two questions, kept apart:
 * - Is it money? Signed by the buyer of the job's channel (buyer, provider, job id, escrow,
 *   chain), not expired, adding something beyond what the escrow already paid the channel, and
 *   covered by the buyer's deposit (with what the same buyer's other vouchers held here still
 *   promise). Only then does the check produce a CheckedVoucher: the one value the ledger's
 *   write API takes. Anything else is refused evidence, kept apart and never summed.
 * - Does it pay the job up to date? That needs a voucher for at least what the usage cost,
 *   counted from what the channel had been paid before this job (a reused job id's old
 *   payments pay nothing of the new job's work), and time left to redeem it.
 */
import { checksummed } from '../chain/checksum.js';
import type { SignedVoucher } from '../wallet/schema.js';

/** A voucher must leave at least this long to redeem it to count as paying a job. */
export const MIN_VOUCHER_LIFETIME_S = 15 * 60;

/** A payment channel of the escrow: what its `paid` mapping is keyed by, on one chain's escrow. */
export interface Channel {
  chainId: number;
  escrow: string;
  buyer: string;
  provider: string;
  /** bytes32, lower-case hex (the contract's job id). */
  jobId: string;
}

export type RefusalKind = 'unreadable' | 'not-ours' | 'wrong-payee' | 'wrong-channel' | 'forged' | 'expired' | 'chain-unreadable' | 'worthless' | 'uncovered';

export interface Refusal {
  kind: RefusalKind;
  /** In words the owner can read. */
  why: string;
}

declare const checkedBrand: unique symbol;

/** A voucher that passed every check for its channel. Only checkVoucher makes one. */
export interface CheckedVoucher {
  readonly signed: SignedVoucher;
  readonly channel: Channel;
  /** What redeeming it pays now: its amount beyond what the escrow already paid the channel. */
  readonly value: bigint;
  /** The channel's paid total on chain when it was checked. */
  readonly paidOnChain: bigint;
  readonly [checkedBrand]: true;
}

const issued = new WeakSet<object>();

/** True only for a value checkVoucher returned (a cast cannot make one). */
export function isCheckedVoucher(v: unknown): v is CheckedVoucher {
  return typeof v === 'object' && v !== null && issued.has(v);
}

export interface VoucherFacts {
  /** The channel the voucher must belong to: the job's buyer, this wallet, the job's id, escrow and chain. */
  channel: Channel;
  /**
   * Where the voucher's money must go: the payout address the job was accepted for, or null
   * when none is set (then it pays this wallet: a v1 voucher, or one naming this wallet).
   */
  payee: string | null;
  /** The signer the voucher recovers to under channel.chainId and channel.escrow. */
  recoveredSigner: string;
  nowSec: number;
  /** The buyer's escrow deposit and the channel's paid total; null when the chain could not be read. */
  chain: { deposit: bigint; paid: bigint } | null;
  /** What this buyer's other vouchers held here still promise: the same deposit pays them. */
  owedElsewhere: bigint;
}

export type VoucherVerdict = { counted: CheckedVoucher; refused: null } | { counted: null; refused: Refusal };

const refuse = (kind: RefusalKind, why: string): VoucherVerdict => ({ counted: null, refused: { kind, why } });

/** Whether a voucher is money for its channel: a CheckedVoucher, or the refusal and why. */
export function checkVoucher(signed: SignedVoucher, f: VoucherFacts): VoucherVerdict {
  const v = signed.voucher;
  const c = f.channel;
  if (checksummed(v.provider) !== checksummed(c.provider)) return refuse('not-ours', `it pays ${checksummed(v.provider)}, not this wallet (${checksummed(c.provider)})`);
  const problem = payeeProblem(v.payee, f.payee, c.provider);
  if (problem) return refuse('wrong-payee', problem);
  if (checksummed(v.buyer) !== checksummed(c.buyer)) return refuse('wrong-channel', `it names the buyer ${checksummed(v.buyer)}, not this job's buyer ${checksummed(c.buyer)}`);
  if (v.jobId.toLowerCase() !== c.jobId.toLowerCase()) return refuse('wrong-channel', `it is for another job (${v.jobId}, not ${c.jobId})`);
  if (checksummed(f.recoveredSigner) !== checksummed(v.buyer)) {
    return refuse('forged', `it is not signed by the buyer (the signature recovers to ${checksummed(f.recoveredSigner)}): forged, or for another chain or escrow`);
  }
  if (v.expiry < f.nowSec) return refuse('expired', `it expired at ${new Date(v.expiry * 1000).toISOString()}, so the escrow would not pay it`);
  if (f.chain === null) return refuse('chain-unreadable', "the chain could not be read to check what the escrow already paid and the buyer's deposit");
  const amount = BigInt(v.cumulativeAmount);
  if (amount <= f.chain.paid) return refuse('worthless', `the escrow already paid this job ${f.chain.paid} base units and the voucher promises ${amount}, so it adds nothing on chain`);
  const value = amount - f.chain.paid;
  if (value + f.owedElsewhere > f.chain.deposit) {
    const elsewhere = f.owedElsewhere > 0n ? ` plus the ${f.owedElsewhere} its other vouchers held here still promise` : '';
    return refuse('uncovered', `the buyer's escrow deposit (${f.chain.deposit}) does not cover the ${value} base units it adds${elsewhere}, so the escrow would refuse to pay it`);
  }
  const counted = Object.freeze({ signed, channel: { ...c, escrow: checksummed(c.escrow), buyer: checksummed(c.buyer), provider: checksummed(c.provider), jobId: c.jobId.toLowerCase() }, value, paidOnChain: f.chain.paid }) as CheckedVoucher;
  issued.add(counted);
  return { counted, refused: null };
}

/**
 * Null when the voucher's money goes where it must; otherwise why not. With a payout address
 * set, a voucher must name it: one paying this machine (a v1 voucher, or one naming the machine)
 * would put the earnings where a stolen machine key could spend them.
 */
function payeeProblem(named: string | undefined, expected: string | null, provider: string): string | null {
  const paysTo = checksummed(named ?? provider);
  if (expected !== null) {
    if (paysTo === checksummed(expected)) return null;
    return `it pays ${paysTo === checksummed(provider) ? `this machine's own address (${paysTo})` : paysTo}, not the payout address ${checksummed(expected)} set for this machine`;
  }
  if (paysTo === checksummed(provider)) return null;
  return `it pays ${paysTo}, which is not this wallet (${checksummed(provider)}) and no payout address is set here`;
}

export interface JobPaymentFacts {
  amount: bigint;
  expiry: number;
  nowSec: number;
  /** What the escrow had paid this channel before the job began (a reused job id's old payments). */
  paidBefore: bigint;
  /** What the usage cost up to the report before the latest one. */
  minAmount: bigint;
}

/**
 * Null when the voucher pays the job up to date; otherwise why not. A voucher's amount is
 * cumulative for the channel, so what the channel was paid before the job pays none of it.
 */
export function jobPaymentProblem(f: JobPaymentFacts): string | null {
  if (f.expiry < f.nowSec + MIN_VOUCHER_LIFETIME_S) {
    return `it expires ${f.expiry < f.nowSec ? 'already' : 'too soon'} (${new Date(f.expiry * 1000).toISOString()}), leaving no time to redeem it`;
  }
  const paysJob = f.amount > f.paidBefore ? f.amount - f.paidBefore : 0n;
  if (f.paidBefore > 0n && paysJob === 0n) return `the escrow had already paid this job id ${f.paidBefore} base units before this job, and the voucher promises ${f.amount}, so it pays nothing of this job's work`;
  if (paysJob < f.minAmount) {
    const earlier = f.paidBefore > 0n ? ` (the first ${f.paidBefore} of its ${f.amount} were paid before this job)` : '';
    return `it pays this job ${paysJob} base units${earlier}, less than the ${f.minAmount} the reported usage costs`;
  }
  return null;
}
