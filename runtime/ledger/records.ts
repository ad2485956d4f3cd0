/**
 * The ledger's records as code sees them (stored vouchers, refused ones, redemption events, the
 * contexts they are keyed by) and as SQLite returns them, and the address forms they are keyed by.
 */
import { getAddress as checksum } from 'ethers';
import type { RefusalKind } from '../market/voucher-check.js';
import type { SignedVoucher } from '../wallet/schema.js';

export type VoucherStatus = 'redeemable' | 'redeemed' | 'expired';

export interface ChainContext {
  chainId: number;
  escrow: string;
}

/** A payment channel without its job: whose usage a report is (the job id comes with the report). */
export interface ChannelContext extends ChainContext {
  buyer: string;
  provider: string;
}

/** A voucher that failed a check: kept as evidence, never summed. */
export interface RefusedVoucher {
  id: number;
  chainId: number;
  escrow: string;
  voucher: SignedVoucher['voucher'];
  signature: string;
  receivedAt: number;
  /** The buyer and job id it was checked against (null when it came with no job). */
  expectedBuyer: string | null;
  expectedJobId: string | null;
  kind: RefusalKind;
  reason: string;
}

/** Refused vouchers kept: the newest this many (evidence, bounded like every list). */
export const MAX_REFUSED_VOUCHERS = 10_000;

export interface StoredVoucher extends SignedVoucher {
  id: number;
  chainId: number;
  escrow: string;
  status: VoucherStatus;
  submittedTx: string | null;
  redeemTx: string | null;
  redeemBlock: number | null;
  receivedAt: number;
}

export interface RedemptionEvent extends ChainContext {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  /** Block time, unix ms. */
  blockTime: number;
  buyer: string;
  provider: string;
  jobId: string;
  amount: bigint;
  cumulative: bigint;
  /** Where the money went: the voucher's payee (the escrow's `PaidTo`); null or absent: the provider. */
  payee?: string | null;
}

export interface EarningsRow {
  id: number;
  job_id: string | null;
  owed: string;
  vouched: string;
  paid: string;
  expiry: number | null;
  buyer: string | null;
  provider: string | null;
  redeem_tx: string | null;
  redeem_block: number | null;
}

export interface VoucherRow {
  id: number;
  chain_id: number;
  escrow: string;
  buyer: string;
  provider: string;
  market_job_id: string;
  cumulative_amount: string;
  expiry: number;
  signature: string;
  received_at: number;
  status: VoucherStatus;
  submitted_tx: string | null;
  redeem_tx: string | null;
  redeem_block: number | null;
  payee: string | null;
}

export const lowerHex = (s: string) => s.toLowerCase();

/** ethers' getAddress hashes every call; the ledger sees the same few addresses again and again. */
const checksums = new Map<string, string>();
export function getAddress(address: string): string {
  let out = checksums.get(address);
  if (out === undefined) {
    out = checksum(address);
    if (checksums.size > 10_000) checksums.clear();
    checksums.set(address, out);
  }
  return out;
}

export function toStored(r: VoucherRow): StoredVoucher {
  return {
    id: r.id,
    chainId: r.chain_id,
    escrow: r.escrow,
    voucher: withPayee({ buyer: r.buyer, provider: r.provider, jobId: r.market_job_id, cumulativeAmount: r.cumulative_amount, expiry: r.expiry }, r.payee),
    signature: r.signature,
    status: r.status,
    submittedTx: r.submitted_tx,
    redeemTx: r.redeem_tx,
    redeemBlock: r.redeem_block,
    receivedAt: r.received_at,
  };
}

/** A stored voucher's fields, with its payee only when it names one (a v1 voucher has none). */
export function withPayee(v: Omit<SignedVoucher['voucher'], 'payee'>, payee: string | null | undefined): SignedVoucher['voucher'] {
  return payee ? { buyer: v.buyer, provider: v.provider, payee, jobId: v.jobId, cumulativeAmount: v.cumulativeAmount, expiry: v.expiry } : v;
}
