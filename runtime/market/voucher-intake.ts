/**
 * A voucher arriving, on the I/O side: recover its signer, read the escrow (the buyer's deposit,
 * the channel's paid total), run the pure check (voucher-check.ts), then store it in the
 * ledger as counted (a CheckedVoucher) or as refused evidence, never both. One voucher at a
 * time per ledger, so two vouchers of one buyer cannot both be counted against the same deposit.
 */
import { Contract, type ContractRunner } from 'ethers';
import { ESCROW_ABI } from '../chain/abi.js';
import { toJobId } from '../chain/job-id.js';
import { recheckLegacyVouchers } from '../ledger/legacy-vouchers.js';
import type { Ledger, StoredVoucher } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import { isDiskFull } from '../storage/disk-full.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { recoverVoucherSigner } from '../wallet/voucher.js';
import type { PaidJob } from './paid-job.js';
import { MarketStore } from './store.js';
import { checkVoucher, jobPaymentProblem, type Channel, type Refusal } from './voucher-check.js';

/** What the escrow says about a channel now. */
export interface EscrowReader {
  channelFacts(buyer: string, provider: string, jobId: string): Promise<{ deposit: bigint; paid: bigint }>;
}

/** Reads the escrow at `escrow`; a read that takes longer than `timeoutMs` fails (the voucher is then refused as unchecked). */
export function escrowReader(runner: ContractRunner, escrow: string, timeoutMs = 10_000): EscrowReader {
  const contract = new Contract(escrow, ESCROW_ABI, runner);
  return {
    async channelFacts(buyer, provider, jobId) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the escrow did not answer in ${timeoutMs / 1000} s`)), timeoutMs)));
      try {
        const [deposit, paid] = (await Promise.race([Promise.all([contract.getFunction('deposits')(buyer), contract.getFunction('paid')(buyer, provider, jobId)]), timeout])) as [bigint, bigint];
        return { deposit, paid };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface VoucherIntake {
  ledger: Ledger;
  /** Null when the chain is not reachable for this channel's chain and escrow. */
  reader: EscrowReader | null;
  nowMs: number;
  /** The channel the voucher must belong to (for a market job: its buyer, this wallet, its id, escrow, chain). */
  channel: Channel;
  /** Where its money must go: the payout address (for a market job: the one it was accepted for), or null: this wallet. */
  payee: string | null;
  signed: SignedVoucher;
  /** When it came for a running job: what the job's usage cost so far, and what the channel was paid before it (null: not read yet). */
  job?: { minAmount: bigint; paidBefore: bigint | null; acceptedAt: number };
}

export interface IntakeResult {
  /** The voucher as counted in the ledger; null when refused. */
  stored: StoredVoucher | null;
  refused: Refusal | null;
  /** For a job: null when the voucher pays it up to date, otherwise why not. */
  paymentProblem: string | null;
  /** For a job: what the channel was paid before it, when this intake read it first (the caller keeps it). */
  paidBefore: bigint | null;
}

const queues = new WeakMap<Ledger, Promise<unknown>>();

/** Checks one voucher and stores it as counted or refused; never throws for a bad voucher or an unreadable chain. */
export function takeVoucher(i: VoucherIntake): Promise<IntakeResult> {
  const previous = queues.get(i.ledger) ?? Promise.resolve();
  const run = previous.then(() => intake(i));
  queues.set(
    i.ledger,
    run.catch(() => undefined),
  );
  return run;
}

async function intake(i: VoucherIntake): Promise<IntakeResult> {
  const ctx = { chainId: i.channel.chainId, escrow: i.channel.escrow };
  const nowSec = Math.floor(i.nowMs / 1000);
  let recovered: string;
  try {
    recovered = recoverVoucherSigner(i.signed, i.channel.chainId, i.channel.escrow);
  } catch (error) {
    return refused(i, { kind: 'unreadable', why: (error as Error).message });
  }
  let chain: { deposit: bigint; paid: bigint } | null = null;
  if (i.reader) {
    try {
      chain = await i.reader.channelFacts(i.channel.buyer, i.channel.provider, i.channel.jobId);
    } catch {
      chain = null;
    }
  }
  // The buyer's deposit may have paid others since its vouchers here were counted: recount them first.
  if (chain) i.ledger.fitToChain(ctx, i.channel.buyer, i.channel.provider, chain.deposit, new Map([[i.channel.jobId.toLowerCase(), chain.paid]]));
  // Counted for this job before this voucher: what of the channel's paid total the job's own vouchers explain.
  const ownBefore = i.job ? i.ledger.bestCheckedSince(i.channel, i.job.acceptedAt) : 0n;
  const verdict = checkVoucher(i.signed, { channel: i.channel, payee: i.payee, recoveredSigner: recovered, nowSec, chain, owedElsewhere: i.ledger.owedByBuyerElsewhere(i.channel) });
  let stored: StoredVoucher | null = null;
  if (verdict.counted) stored = i.ledger.recordVoucher(verdict.counted, i.nowMs);
  else if (!(verdict.refused.kind === 'worthless' && i.ledger.findVoucher(i.signed) !== undefined)) {
    // A voucher already counted, sent again after it was redeemed, is no new evidence.
    i.ledger.recordRefusedVoucher({ ctx, signed: i.signed, kind: verdict.refused.kind, reason: verdict.refused.why, expected: i.channel, receivedAt: i.nowMs });
  }
  if (!i.job) return { stored, refused: verdict.refused, paymentProblem: null, paidBefore: null };
  // Only a voucher that is money, or one already paid on chain, can pay a job.
  if (verdict.refused && verdict.refused.kind !== 'worthless') return { stored, refused: verdict.refused, paymentProblem: verdict.refused.why, paidBefore: null };
  // First read for this job: what the channel was paid beyond what the job's own counted vouchers explain.
  const paid = chain!.paid;
  const paidBefore = i.job.paidBefore ?? (paid > ownBefore ? paid - ownBefore : 0n);
  const paymentProblem = jobPaymentProblem({ amount: BigInt(i.signed.voucher.cumulativeAmount), expiry: i.signed.voucher.expiry, nowSec, paidBefore, minAmount: i.job.minAmount });
  return { stored, refused: verdict.refused, paymentProblem, paidBefore: i.job.paidBefore === null ? paidBefore : null };
}

function refused(i: VoucherIntake, r: Refusal): IntakeResult {
  i.ledger.recordRefusedVoucher({ ctx: { chainId: i.channel.chainId, escrow: i.channel.escrow }, signed: i.signed, kind: r.kind, reason: r.why, expected: i.channel, receivedAt: i.nowMs });
  return { stored: null, refused: r, paymentProblem: i.job ? r.why : null, paidBefore: null };
}

/**
 * Checks once more the vouchers counted before they were checked against their job's buyer
 * (legacy-vouchers.ts), then re-reads the escrow for every buyer with something redeemable here (its deposit, what each
 * channel was paid) and takes out of the count what the escrow would no longer pay: a deposit
 * drained by payments elsewhere or withdrawn after the notice period. The wallet runs it after
 * each reconciliation; returns how many vouchers were taken out.
 */
export async function recheckCounted(ledger: Ledger, reader: EscrowReader, ctx: { chainId: number; escrow: string }): Promise<number> {
  let taken = recheckLegacyVouchers(ledger.db, ledger).refused;
  for (const b of ledger.buyersWithRedeemable(ctx)) {
    const paid = new Map<string, bigint>();
    let deposit = 0n;
    for (const jobId of b.jobIds) {
      const facts = await reader.channelFacts(b.buyer, b.provider, jobId);
      paid.set(jobId, facts.paid);
      deposit = facts.deposit;
    }
    taken += ledger.fitToChain(ctx, b.buyer, b.provider, deposit, paid);
  }
  return taken;
}

export interface MarketVoucherDeps {
  db: Db;
  ledger: Ledger;
  log: Logger;
  now: () => number;
  /** This wallet's address. */
  provider: string;
  /** A reader for the escrow on `chainId`, or null when this agent's chain is another one or unreachable. */
  reader: (chainId: number, escrow: string) => EscrowReader | null;
  /** Redeem once what is redeemable reaches the owner's threshold. */
  autoRedeem: () => Promise<unknown>;
  onChange: () => void;
}

/**
 * A voucher the market sent for one of our jobs: checked against that job's channel, counted or
 * kept as refused evidence, and the job told whether it is paid up to date.
 */
export async function receiveMarketVoucher(d: MarketVoucherDeps, jobId: string, signed: SignedVoucher, tracked: PaidJob | undefined): Promise<void> {
  const store = new MarketStore(d.db);
  const row = store.job(jobId);
  if (!row) return void d.log.warn('a voucher for a job this agent does not know', { jobId });
  const channel: Channel = { chainId: row.chain_id, escrow: row.escrow, buyer: row.buyer, provider: d.provider, jobId: toJobId(row.job_id) };
  const paidBefore = row.channel_paid_before ?? null;
  let result: IntakeResult;
  try {
    result = await takeVoucher({
      ledger: d.ledger,
      reader: d.reader(row.chain_id, row.escrow),
      nowMs: d.now(),
      channel,
      payee: row.payee ?? null,
      signed,
      job: { minAmount: tracked?.minimumVoucher() ?? 0n, paidBefore: paidBefore === null ? null : BigInt(paidBefore), acceptedAt: row.accepted_at },
    });
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    // Vouchers are cumulative: the next one, after space returns, carries this one's amount.
    d.log.warn('a voucher could not be stored: the disk is full', { jobId });
    tracked?.diskRefused();
    return;
  }
  if (result.paidBefore !== null) {
    store.setChannelPaidBefore(jobId, result.paidBefore);
    if (tracked) tracked.row = { ...tracked.row, channel_paid_before: result.paidBefore.toString() };
  }
  if (result.paymentProblem) {
    d.log.warn('voucher refused', { jobId, problem: result.paymentProblem, counted: result.stored !== null });
    if (tracked) tracked.refused(result.paymentProblem);
    else store.setVoucherProblem(jobId, result.paymentProblem);
    d.onChange();
    return;
  }
  const before = result.paidBefore ?? (paidBefore === null ? 0n : BigInt(paidBefore));
  const amount = BigInt(signed.voucher.cumulativeAmount) - before;
  if (tracked) tracked.paid(amount);
  else {
    const upTo = amount > BigInt(row.paid_up_to) ? amount : BigInt(row.paid_up_to);
    store.setPaid(jobId, upTo, d.now());
  }
  void d.autoRedeem().catch((error: unknown) => d.log.warn('auto-redeem failed', { error: (error as Error).message }));
  d.onChange();
}
