/**
 * The earnings ledger over SQLite (migration 003, on the jobs tables of 002): every usage
 * report, voucher, on-chain redemption and withdrawal, and the queries the earnings screen and
 * the CSV export read. Amounts are bigint in code, decimal TEXT plus exact hi/lo INTEGER pairs
 * in the database (see amount.ts); sums never go through floating point.
 *
 * This class is the one door; each idea lives in its own file: job-amounts.ts (usage,
 * redemptions, expiry), vouchers.ts, fit-to-chain.ts, withdrawals.ts, reports.ts, csv.ts.
 */
import type { CheckedVoucher, Channel, RefusalKind } from '../market/voucher-check.js';
import type { Db } from '../storage/database.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { LedgerCore } from './core.js';
import { exportCsv } from './csv.js';
import * as fit from './fit-to-chain.js';
import * as amounts from './job-amounts.js';
import type { ChainContext, ChannelContext, RedemptionEvent, RefusedVoucher, StoredVoucher } from './records.js';
import * as reports from './reports.js';
import type { EarningRow, EarningsTotals, SeriesPoint } from './schema.js';
import * as vouchers from './vouchers.js';
import * as withdrawals from './withdrawals.js';

export type { ChainContext, ChannelContext, RedemptionEvent, RefusedVoucher, StoredVoucher, VoucherStatus } from './records.js';
export { MAX_REFUSED_VOUCHERS } from './records.js';
export type { EarningStatus } from './classify.js';
export { BUCKET_MS } from './reports.js';

export class Ledger {
  private readonly core: LedgerCore;

  constructor(
    readonly db: Db,
    now: () => number = () => Date.now(),
  ) {
    this.core = new LedgerCore(db, now);
  }

  // ── usage, redemptions, expiry ──────────────────────────────────────────

  /** A usage report: the cumulative amount owed for a job (on its buyer's channel to us) so far. */
  recordUsageReport(ctx: ChannelContext, report: { marketJobId: string; amount: bigint; at?: number; usage?: unknown }): void {
    amounts.recordUsageReport(this.core, ctx, report);
  }

  /** A `Redeemed` event seen on chain (from our own receipt or from reconciliation). Idempotent. */
  recordRedemption(ev: RedemptionEvent): boolean {
    return amounts.recordRedemption(this.core, ev);
  }

  /** Vouchers (and jobs) whose expiry has passed unredeemed become expired (`nowMs`: the chain's time when it runs ahead). */
  expireDue(nowMs?: number): number {
    return amounts.expireDue(this.core, nowMs);
  }

  // ── vouchers ────────────────────────────────────────────────────────────

  /** Stores and counts a voucher that passed every check for its channel; the same voucher again returns the same row. */
  recordVoucher(checked: CheckedVoucher, receivedAt?: number): StoredVoucher {
    return vouchers.recordVoucher(this.core, checked, receivedAt);
  }

  /** A voucher that failed a check: kept apart as evidence, never summed. */
  recordRefusedVoucher(r: { ctx: ChainContext; signed: SignedVoucher; kind: RefusalKind; reason: string; expected?: Pick<Channel, 'buyer' | 'jobId'>; receivedAt?: number }): number {
    return vouchers.recordRefusedVoucher(this.core, r);
  }

  refusedVouchers(limit?: number, offset?: number): { vouchers: RefusedVoucher[]; total: number } {
    return vouchers.refusedVouchers(this.core, limit, offset);
  }

  findVoucher(signed: SignedVoucher): StoredVoucher | undefined {
    return vouchers.findVoucher(this.core, signed);
  }

  uncheckedVouchers(limit?: number): StoredVoucher[] {
    return vouchers.uncheckedVouchers(this.core, limit);
  }

  markChecked(voucherId: number): void {
    vouchers.markChecked(this.core, voucherId);
  }

  uncount(voucherId: number, kind: RefusalKind, reason: string, expected?: Pick<Channel, 'buyer' | 'jobId'>): void {
    vouchers.uncount(this.core, voucherId, kind, reason, expected);
  }

  bestCheckedSince(channel: Channel, sinceMs: number): bigint {
    return vouchers.bestCheckedSince(this.core, channel, sinceMs);
  }

  owedByBuyerElsewhere(channel: Channel): bigint {
    return vouchers.owedByBuyerElsewhere(this.core, channel);
  }

  markSubmitted(voucherId: number, txHash: string): void {
    vouchers.markSubmitted(this.core, voucherId, txHash);
  }

  voucher(id: number): StoredVoucher | undefined {
    return vouchers.voucher(this.core, id);
  }

  redeemableVouchers(ctx: ChainContext, nowSec?: number): StoredVoucher[] {
    return vouchers.redeemableVouchers(this.core, ctx, nowSec);
  }

  // ── fitting the count to the chain ──────────────────────────────────────

  rebuildJob(ctx: ChainContext, marketJobId: string, usageChannel?: { buyer: string; provider: string }): void {
    fit.rebuildJob(this.core, ctx, marketJobId, usageChannel);
  }

  buyersWithRedeemable(ctx: ChainContext): { buyer: string; provider: string; jobIds: string[] }[] {
    return fit.buyersWithRedeemable(this.core, ctx);
  }

  fitToChain(ctx: ChainContext, buyer: string, provider: string, deposit: bigint, paidOnChain?: ReadonlyMap<string, bigint>): number {
    return fit.fitToChain(this.core, ctx, buyer, provider, deposit, paidOnChain);
  }

  // ── withdrawals and the chain sync cursor ──────────────────────────────

  recordWithdrawal(w: { chainId: number; token: string; from: string; to: string; amount: bigint; txHash: string }): number {
    return withdrawals.recordWithdrawal(this.core, w);
  }

  settleWithdrawal(id: number, outcome: { blockNumber: number } | { error: string }): void {
    withdrawals.settleWithdrawal(this.core, id, outcome);
  }

  pendingWithdrawals(): { id: number; txHash: string }[] {
    return withdrawals.pendingWithdrawals(this.core);
  }

  lastSyncedBlock(ctx: ChainContext, provider: string): number | null {
    return withdrawals.lastSyncedBlock(this.core, ctx, provider);
  }

  setSyncedBlock(ctx: ChainContext, provider: string, block: number): void {
    withdrawals.setSyncedBlock(this.core, ctx, provider, block);
  }

  // ── reading ─────────────────────────────────────────────────────────────

  totals(): EarningsTotals {
    return reports.totals(this.core);
  }

  series(unit: 'day' | 'week' | 'month', from: string, to: string, timeZone: string): SeriesPoint[] {
    return reports.series(this.core, unit, from, to, timeZone);
  }

  earnedBetween(fromMs: number, toMs: number): bigint {
    return reports.earnedBetween(this.core, fromMs, toMs);
  }

  byGpu(fromMs?: number, toMs?: number): { gpuKey: string; earned: string; jobs: number }[] {
    return reports.byGpu(this.core, fromMs, toMs);
  }

  jobs(limit?: number, offset?: number): { jobs: EarningRow[]; total: number } {
    return reports.jobs(this.core, limit, offset);
  }

  exportCsv(options: { fromMs?: number; toMs?: number; timeZone: string; decimals: number; symbol: string }): { csv: string; rows: number } {
    return exportCsv(this.db, options);
  }
}
