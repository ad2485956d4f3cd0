/**
 * The earnings ledger over SQLite (migration 003, on the jobs tables of 002): every usage
 * report, voucher, on-chain redemption and withdrawal, and the queries the earnings screen and
 * the CSV export read. Amounts are bigint in code, decimal TEXT plus exact hi/lo INTEGER pairs
 * in the database (see amount.ts); sums never go through floating point.
 */
import { getAddress as checksum } from 'ethers';
import { AppError } from '../errors.js';
import type { Db } from '../storage/database.js';
import { isCheckedVoucher, type CheckedVoucher, type Channel, type RefusalKind } from '../market/voucher-check.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { join, maxBig, split } from './amount.js';
import type { EarningRow, EarningsTotals, SeriesPoint } from './schema.js';
import { addDays, dateRange, offsetMs, parseDateKey, startOfDay, weekStart } from '../time/zone.js';

export type EarningStatus = 'pending' | 'redeemable' | 'redeemed' | 'expired';
export type VoucherStatus = 'redeemable' | 'redeemed' | 'expired';
const PARTS = ['earned', 'pending', 'redeemable', 'redeemed', 'expired'] as const;
type Part = (typeof PARTS)[number];
export const BUCKET_MS = 900_000;

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
}

interface EarningsRow {
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

interface VoucherRow {
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
}

/** A job's amounts split by status: the pure rule the triggers' totals are made of. */
export function classify(a: { owed: bigint; vouched: bigint; paid: bigint; expiry: number | null }, nowSec: number): { status: EarningStatus; parts: Record<Part, bigint> } {
  const vouched = maxBig(a.vouched, a.paid);
  const pending = a.owed > vouched ? a.owed - vouched : 0n;
  const open = vouched - a.paid;
  const isExpired = open > 0n && a.expiry !== null && a.expiry < nowSec;
  const status: EarningStatus = vouched === 0n ? 'pending' : open === 0n ? 'redeemed' : isExpired ? 'expired' : 'redeemable';
  return {
    status,
    parts: {
      earned: pending + vouched - (isExpired ? open : 0n),
      pending,
      redeemable: isExpired ? 0n : open,
      redeemed: a.paid,
      expired: isExpired ? open : 0n,
    },
  };
}

const lowerHex = (s: string) => s.toLowerCase();

/** ethers' getAddress hashes every call; the ledger sees the same few addresses again and again. */
const checksums = new Map<string, string>();
function getAddress(address: string): string {
  let out = checksums.get(address);
  if (out === undefined) {
    out = checksum(address);
    if (checksums.size > 10_000) checksums.clear();
    checksums.set(address, out);
  }
  return out;
}

/**
 * One CSV cell. A cell a spreadsheet would run as a formula (it begins with = + - @, a tab or
 * a carriage return: OWASP's list) gets a leading ' and is quoted, so it is shown as text.
 */
export function csvField(value: string): string {
  if (/^[=+\-@\t\r]/.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export class Ledger {
  private readonly st;

  constructor(
    readonly db: Db,
    private readonly now: () => number = () => Date.now(),
  ) {
    const partCols = PARTS.flatMap((p) => [`${p}_hi`, `${p}_lo`]);
    this.st = {
      earningsByKey: db.prepare<[number, string, string, string, string], EarningsRow>(
        'SELECT id, job_id, owed, vouched, paid, expiry, buyer, provider, redeem_tx, redeem_block FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND buyer = ? AND provider = ? AND market_job_id = ?',
      ),
      // A row from before rows were keyed by channel (buyer and provider unknown): its channel's next record adopts it.
      adoptLegacy: db.prepare("UPDATE ledger_earnings SET buyer = ?, provider = ? WHERE chain_id = ? AND escrow = ? AND buyer = '' AND market_job_id = ?"),
      jobByMarketId: db.prepare<[string], { id: string; started_at: number | null; ended_at: number | null; created_at: number }>(
        'SELECT id, started_at, ended_at, created_at FROM jobs WHERE market_job_id = ? ORDER BY created_at DESC LIMIT 1',
      ),
      insertEarnings: db.prepare(
        `INSERT INTO ledger_earnings (chain_id, escrow, buyer, provider, market_job_id, job_id, at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`,
      ),
      updateEarnings: db.prepare(
        `UPDATE ledger_earnings SET job_id = @job_id, buyer = @buyer, provider = @provider, owed = @owed, vouched = @vouched, paid = @paid, expiry = @expiry,
           status = @status, redeem_tx = @redeem_tx, redeem_block = @redeem_block, ${partCols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
      ),
      insertUsage: db.prepare('INSERT INTO ledger_usage_reports (chain_id, escrow, buyer, provider, market_job_id, reported_at, amount, usage) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insertVoucher: db.prepare(
        `INSERT OR IGNORE INTO ledger_vouchers (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature, received_at, checked_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'redeemable')`,
      ),
      insertRefused: db.prepare(
        `INSERT INTO ledger_refused_vouchers (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature, received_at, expected_buyer, expected_job_id, kind, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      trimRefused: db.prepare(`DELETE FROM ledger_refused_vouchers WHERE id <= (SELECT id FROM ledger_refused_vouchers ORDER BY id DESC LIMIT 1 OFFSET ${MAX_REFUSED_VOUCHERS})`),
      vouchersOfFullChannel: db.prepare<[number, string, string, string, string, number], { cumulative_amount: string }>(
        'SELECT cumulative_amount FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND buyer = ? AND provider = ? AND market_job_id = ? AND checked_at IS NOT NULL AND received_at >= ?',
      ),
      channelsOfBuyer: db.prepare<[number, string, string, string], { market_job_id: string; paid: string }>(
        "SELECT market_job_id, paid FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND buyer = ? AND provider = ? AND status IN ('redeemable', 'redeemed') ORDER BY id",
      ),
      openVouchersOfChannel: db.prepare<[number, string, string, string, string, number], VoucherRow>(
        "SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND buyer = ? AND provider = ? AND market_job_id = ? AND status = 'redeemable' AND expiry >= ?",
      ),
      deleteVoucher: db.prepare('DELETE FROM ledger_vouchers WHERE id = ?'),
      redeemableOfBuyer: db
        .prepare<[number, string, string, string, string], { hi: bigint | null; lo: bigint | null }>(
          "SELECT sum(redeemable_hi) AS hi, sum(redeemable_lo) AS lo FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND buyer = ? AND NOT (provider = ? AND market_job_id = ?)",
        )
        .safeIntegers(true),
      voucherByUnique: db.prepare<unknown[], VoucherRow>(
        'SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND buyer = ? AND provider = ? AND market_job_id = ? AND cumulative_amount = ? AND expiry = ? AND signature = ?',
      ),
      voucherById: db.prepare<[number], VoucherRow>('SELECT * FROM ledger_vouchers WHERE id = ?'),
      vouchersOfChannel: db.prepare<[number, string, string], VoucherRow>('SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND market_job_id = ?'),
      setVoucherStatus: db.prepare('UPDATE ledger_vouchers SET status = ?, redeem_tx = ?, redeem_block = ? WHERE id = ?'),
      setSubmitted: db.prepare('UPDATE ledger_vouchers SET submitted_tx = ?, submitted_at = ? WHERE id = ?'),
      redeemable: db.prepare<[number, string, number], VoucherRow>(
        "SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND status = 'redeemable' AND expiry >= ? ORDER BY id",
      ),
      insertRedemption: db.prepare(
        `INSERT OR IGNORE INTO ledger_redemptions (chain_id, escrow, tx_hash, log_index, block_number, block_time, buyer, provider, market_job_id, amount, cumulative)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      totals: db.prepare(`SELECT jobs, ${partCols.join(', ')} FROM ledger_totals WHERE id = 1`).safeIntegers(true),
      withdrawn: db.prepare("SELECT sum(amount_hi) AS hi, sum(amount_lo) AS lo FROM ledger_withdrawals WHERE status = 'confirmed'").safeIntegers(true),
      bucketRange: db
        .prepare('SELECT sum(jobs) AS jobs, sum(earned_hi) AS eh, sum(earned_lo) AS el, sum(redeemed_hi) AS rh, sum(redeemed_lo) AS rl FROM ledger_buckets WHERE bucket >= ? AND bucket < ?')
        .safeIntegers(true),
    };
  }

  // ── writing ───────────────────────────────────────────────────────────

  /** Finds or creates a job's earnings row, applies `change`, and re-derives its status and parts. */
  private updateJob(
    ctx: ChannelContext,
    marketJobId: string,
    fallbackAt: number,
    change: (row: { owed: bigint; vouched: bigint; paid: bigint; expiry: number | null; buyer: string | null; provider: string | null; redeemTx: string | null; redeemBlock: number | null }) => void,
  ): void {
    const jobKey = lowerHex(marketJobId);
    const escrow = getAddress(ctx.escrow);
    const buyer = getAddress(ctx.buyer);
    const provider = getAddress(ctx.provider);
    let row = this.st.earningsByKey.get(ctx.chainId, escrow, buyer, provider, jobKey);
    if (!row && this.st.adoptLegacy.run(buyer, provider, ctx.chainId, escrow, jobKey).changes > 0) row = this.st.earningsByKey.get(ctx.chainId, escrow, buyer, provider, jobKey);
    if (!row) {
      const job = this.st.jobByMarketId.get(jobKey);
      const at = job?.ended_at ?? job?.started_at ?? fallbackAt;
      this.st.insertEarnings.run(ctx.chainId, escrow, buyer, provider, jobKey, job?.id ?? null, at);
      row = this.st.earningsByKey.get(ctx.chainId, escrow, buyer, provider, jobKey)!;
    }
    const state = {
      owed: BigInt(row.owed),
      vouched: BigInt(row.vouched),
      paid: BigInt(row.paid),
      expiry: row.expiry,
      buyer,
      provider,
      redeemTx: row.redeem_tx,
      redeemBlock: row.redeem_block,
    };
    change(state);
    this.writeJob(row.id, row.job_id ?? this.st.jobByMarketId.get(jobKey)?.id ?? null, state);
  }

  private writeJob(
    id: number,
    jobId: string | null,
    s: { owed: bigint; vouched: bigint; paid: bigint; expiry: number | null; buyer: string | null; provider: string | null; redeemTx: string | null; redeemBlock: number | null },
    nowSec = Math.floor(this.now() / 1000),
  ): void {
    const { status, parts } = classify(s, Math.max(nowSec, Math.floor(this.now() / 1000)));
    const params: Record<string, unknown> = {
      id,
      job_id: jobId,
      buyer: s.buyer,
      provider: s.provider,
      owed: s.owed.toString(),
      vouched: maxBig(s.vouched, s.paid).toString(),
      paid: s.paid.toString(),
      expiry: s.expiry,
      status,
      redeem_tx: s.redeemTx,
      redeem_block: s.redeemBlock,
    };
    for (const p of PARTS) {
      const [hi, lo] = split(parts[p]);
      params[`${p}_hi`] = hi;
      params[`${p}_lo`] = lo;
    }
    this.st.updateEarnings.run(params);
  }

  /** A usage report: the cumulative amount owed for a job (on its buyer's channel to us) so far. */
  recordUsageReport(ctx: ChannelContext, report: { marketJobId: string; amount: bigint; at?: number; usage?: unknown }): void {
    const at = report.at ?? this.now();
    split(report.amount);
    this.db.transaction(() => {
      this.st.insertUsage.run(
        ctx.chainId,
        getAddress(ctx.escrow),
        getAddress(ctx.buyer),
        getAddress(ctx.provider),
        lowerHex(report.marketJobId),
        at,
        report.amount.toString(),
        report.usage === undefined ? null : JSON.stringify(report.usage),
      );
      this.updateJob(ctx, report.marketJobId, at, (s) => {
        s.owed = maxBig(s.owed, report.amount);
      });
    })();
  }

  /**
   * Stores a voucher that passed every check for its channel (only the check makes a
   * CheckedVoucher), before anything is sent so none is lost, and counts it on its channel's
   * row. Returns it as stored; storing the same voucher again returns the same row.
   */
  recordVoucher(checked: CheckedVoucher, receivedAt = this.now()): StoredVoucher {
    if (!isCheckedVoucher(checked)) throw new AppError('voucher-unchecked', 'Only a voucher that passed the voucher check can be counted in the ledger.');
    const { signed, channel } = checked;
    const v = signed.voucher;
    const cumulative = BigInt(v.cumulativeAmount);
    split(cumulative);
    const args = [channel.chainId, channel.escrow, channel.buyer, channel.provider, channel.jobId, v.cumulativeAmount, v.expiry, signed.signature.toLowerCase()];
    return this.db.transaction(() => {
      const inserted = this.st.insertVoucher.run(...args, receivedAt, this.now()).changes > 0;
      const row = this.st.voucherByUnique.get(...args)!;
      if (inserted) {
        this.updateJob(channel, channel.jobId, receivedAt, (s) => {
          if (cumulative > s.vouched || (cumulative === s.vouched && (s.expiry ?? 0) < v.expiry)) {
            s.vouched = cumulative;
            s.expiry = v.expiry;
          }
          // What the escrow had paid the channel when the voucher was checked: never counted as redeemable.
          s.paid = maxBig(s.paid, checked.paidOnChain);
          // Already covered by a payment we know of (the chain paid a later voucher first).
          if (cumulative <= s.paid) this.st.setVoucherStatus.run('redeemed', s.redeemTx, s.redeemBlock, row.id);
          else if (v.expiry < Math.floor(this.now() / 1000)) this.st.setVoucherStatus.run('expired', null, null, row.id);
        });
      }
      return toStored(this.st.voucherById.get(row.id)!);
    })();
  }

  /** A voucher that failed a check: kept apart as evidence (the newest MAX_REFUSED_VOUCHERS), never summed. */
  recordRefusedVoucher(r: { ctx: ChainContext; signed: SignedVoucher; kind: RefusalKind; reason: string; expected?: Pick<Channel, 'buyer' | 'jobId'>; receivedAt?: number }): number {
    const v = r.signed.voucher;
    return this.db.transaction(() => {
      const id = Number(
        this.st.insertRefused.run(
          r.ctx.chainId,
          getAddress(r.ctx.escrow),
          getAddress(v.buyer),
          getAddress(v.provider),
          lowerHex(v.jobId),
          v.cumulativeAmount,
          v.expiry,
          r.signed.signature.toLowerCase(),
          r.receivedAt ?? this.now(),
          r.expected ? getAddress(r.expected.buyer) : null,
          r.expected ? lowerHex(r.expected.jobId) : null,
          r.kind,
          r.reason.slice(0, 1000),
        ).lastInsertRowid,
      );
      this.st.trimRefused.run();
      return id;
    })();
  }

  /** Refused vouchers, newest first. */
  refusedVouchers(limit = 100, offset = 0): { vouchers: RefusedVoucher[]; total: number } {
    const rows = this.db.prepare('SELECT * FROM ledger_refused_vouchers ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as Record<string, unknown>[];
    const total = (this.db.prepare('SELECT count(*) AS n FROM ledger_refused_vouchers').get() as { n: number }).n;
    return {
      total,
      vouchers: rows.map((r) => ({
        id: r.id as number,
        chainId: r.chain_id as number,
        escrow: r.escrow as string,
        voucher: { buyer: r.buyer as string, provider: r.provider as string, jobId: r.market_job_id as string, cumulativeAmount: r.cumulative_amount as string, expiry: r.expiry as number },
        signature: r.signature as string,
        receivedAt: r.received_at as number,
        expectedBuyer: r.expected_buyer as string | null,
        expectedJobId: r.expected_job_id as string | null,
        kind: r.kind as RefusalKind,
        reason: r.reason as string,
      })),
    };
  }

  /** This very voucher (same fields and signature) as counted, if it is. */
  findVoucher(signed: SignedVoucher): StoredVoucher | undefined {
    const v = signed.voucher;
    const row = this.db
      .prepare<unknown[], VoucherRow>('SELECT * FROM ledger_vouchers WHERE buyer = ? AND provider = ? AND market_job_id = ? AND cumulative_amount = ? AND expiry = ? AND signature = ? LIMIT 1')
      .get(getAddress(v.buyer), getAddress(v.provider), lowerHex(v.jobId), v.cumulativeAmount, v.expiry, signed.signature.toLowerCase());
    return row ? toStored(row) : undefined;
  }

  /**
   * Builds a job id's rows again from the record (counted vouchers, redemptions, usage reports),
   * one row a channel: after vouchers were taken out of the count. Usage reports from before
   * migration 005 name no buyer: they go to `usageChannel` (the job's buyer), when known.
   */
  rebuildJob(ctx: ChainContext, marketJobId: string, usageChannel?: { buyer: string; provider: string }): void {
    const escrow = getAddress(ctx.escrow);
    const jobKey = lowerHex(marketJobId);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND market_job_id = ?').run(ctx.chainId, escrow, jobKey);
      const vouchers = this.db.prepare<[number, string, string], VoucherRow>('SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY id').all(ctx.chainId, escrow, jobKey);
      for (const v of vouchers) {
        this.updateJob({ ...ctx, buyer: v.buyer, provider: v.provider }, jobKey, v.received_at, (s) => {
          const amount = BigInt(v.cumulative_amount);
          if (amount > s.vouched || (amount === s.vouched && (s.expiry ?? 0) < v.expiry)) {
            s.vouched = amount;
            s.expiry = v.expiry;
          }
        });
      }
      const redemptions = this.db
        .prepare<[number, string, string], { buyer: string; provider: string; cumulative: string; tx_hash: string; block_number: number; block_time: number }>(
          'SELECT buyer, provider, cumulative, tx_hash, block_number, block_time FROM ledger_redemptions WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY block_number, log_index',
        )
        .all(ctx.chainId, escrow, jobKey);
      for (const r of redemptions) {
        this.updateJob({ ...ctx, buyer: r.buyer, provider: r.provider }, jobKey, r.block_time, (s) => {
          const cumulative = BigInt(r.cumulative);
          if (cumulative >= s.paid) {
            s.paid = cumulative;
            s.redeemTx = r.tx_hash;
            s.redeemBlock = r.block_number;
          }
          s.vouched = maxBig(s.vouched, cumulative);
        });
      }
      const usage = this.db
        .prepare<[number, string, string], { buyer: string | null; provider: string | null; amount: string; reported_at: number }>(
          'SELECT buyer, provider, amount, reported_at FROM ledger_usage_reports WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY id',
        )
        .all(ctx.chainId, escrow, jobKey);
      for (const u of usage) {
        const channel = u.buyer && u.provider ? { buyer: u.buyer, provider: u.provider } : usageChannel;
        if (!channel) continue;
        this.updateJob({ ...ctx, ...channel }, jobKey, u.reported_at, (s) => {
          s.owed = maxBig(s.owed, BigInt(u.amount));
        });
      }
    })();
  }

  /** Vouchers counted before migration 005 (never checked against their job's buyer), oldest first. */
  uncheckedVouchers(limit = 1000): StoredVoucher[] {
    return this.db.prepare<[number], VoucherRow>('SELECT * FROM ledger_vouchers WHERE checked_at IS NULL ORDER BY id LIMIT ?').all(limit).map(toStored);
  }

  markChecked(voucherId: number): void {
    this.db.prepare('UPDATE ledger_vouchers SET checked_at = ? WHERE id = ?').run(this.now(), voucherId);
  }

  /** Takes a counted voucher out of the count, kept as refused evidence (its job's rows are then rebuilt by the caller). */
  uncount(voucherId: number, kind: RefusalKind, reason: string, expected?: Pick<Channel, 'buyer' | 'jobId'>): void {
    const v = this.st.voucherById.get(voucherId);
    if (!v) return;
    this.db.transaction(() => {
      this.st.deleteVoucher.run(voucherId);
      this.recordRefusedVoucher({ ctx: { chainId: v.chain_id, escrow: v.escrow }, signed: toStored(v), kind, reason, expected, receivedAt: v.received_at });
    })();
  }

  /** The buyers with something redeemable here, for a re-check against the escrow. */
  buyersWithRedeemable(ctx: ChainContext): { buyer: string; provider: string; jobIds: string[] }[] {
    const rows = this.db
      .prepare<[number, string], { buyer: string; provider: string; market_job_id: string }>(
        "SELECT buyer, provider, market_job_id FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND status = 'redeemable' AND buyer != '' ORDER BY id",
      )
      .all(ctx.chainId, getAddress(ctx.escrow));
    const out = new Map<string, { buyer: string; provider: string; jobIds: string[] }>();
    for (const r of rows) {
      const key = `${r.buyer}|${r.provider}`;
      const entry = out.get(key) ?? { buyer: r.buyer, provider: r.provider, jobIds: [] };
      entry.jobIds.push(r.market_job_id);
      out.set(key, entry);
    }
    return [...out.values()];
  }

  /**
   * Brings a buyer's counted vouchers to what the escrow would pay now: `deposit` is the buyer's
   * deposit, `paidOnChain` what the escrow paid some of its channels. The escrow pays a voucher
   * whole or not at all, from one deposit for all the buyer's channels; channel by channel
   * (oldest first), the best voucher the rest of the deposit still pays stays counted, and the
   * ones above it are taken out of the count and kept as refused evidence ('uncovered'). After
   * this the buyer's redeemable total is what redeeming its vouchers here pays. Returns how many
   * vouchers were taken out.
   */
  fitToChain(ctx: ChainContext, buyerIn: string, providerIn: string, deposit: bigint, paidOnChain: ReadonlyMap<string, bigint> = new Map()): number {
    const escrow = getAddress(ctx.escrow);
    const buyer = getAddress(buyerIn);
    const provider = getAddress(providerIn);
    const nowSec = Math.floor(this.now() / 1000);
    return this.db.transaction(() => {
      let available = deposit;
      let taken = 0;
      const rows = this.st.channelsOfBuyer.all(ctx.chainId, escrow, buyer, provider);
      for (const row of rows) {
        const paid = maxBig(BigInt(row.paid), paidOnChain.get(row.market_job_id) ?? 0n);
        const vouchers = this.st.openVouchersOfChannel
          .all(ctx.chainId, escrow, buyer, provider, row.market_job_id, nowSec)
          .sort((x, y) => (BigInt(y.cumulative_amount) > BigInt(x.cumulative_amount) ? 1 : -1));
        let best: VoucherRow | undefined;
        for (const v of vouchers) {
          const amount = BigInt(v.cumulative_amount);
          const value = amount > paid ? amount - paid : 0n;
          // A redeem already sent for it stays as it is: its receipt settles it.
          if (v.submitted_tx !== null) {
            if (best === undefined) best = v;
            available -= value > available ? available : value;
            continue;
          }
          if (value === 0n) {
            this.st.setVoucherStatus.run('redeemed', null, null, v.id);
            continue;
          }
          if (best === undefined && value <= available) {
            best = v;
            available -= value;
            continue;
          }
          if (best !== undefined) continue;
          this.st.deleteVoucher.run(v.id);
          this.recordRefusedVoucher({
            ctx,
            signed: toStored(v),
            kind: 'uncovered',
            reason: `it was counted, but the buyer's escrow deposit (${deposit}) no longer covers the ${amount - paid} base units it adds beyond the ${paid} already paid, with the buyer's other vouchers here; the escrow would refuse to pay it`,
            expected: { buyer, jobId: row.market_job_id },
            receivedAt: v.received_at,
          });
          taken++;
        }
        this.updateJob({ chainId: ctx.chainId, escrow, buyer, provider }, row.market_job_id, this.now(), (s) => {
          s.paid = paid;
          s.vouched = best ? maxBig(BigInt(best.cumulative_amount), paid) : paid;
          if (best) s.expiry = best.expiry;
        });
      }
      return taken;
    })();
  }

  /** The highest counted voucher of a channel received since `sinceMs` (0 when none). */
  bestCheckedSince(channel: Channel, sinceMs: number): bigint {
    let best = 0n;
    for (const r of this.st.vouchersOfFullChannel.all(channel.chainId, getAddress(channel.escrow), getAddress(channel.buyer), getAddress(channel.provider), lowerHex(channel.jobId), sinceMs)) {
      best = maxBig(best, BigInt(r.cumulative_amount));
    }
    return best;
  }

  /** What a buyer's vouchers on its other channels held here still promise (the same deposit pays them). */
  owedByBuyerElsewhere(channel: Channel): bigint {
    const r = this.st.redeemableOfBuyer.get(channel.chainId, getAddress(channel.escrow), getAddress(channel.buyer), getAddress(channel.provider), lowerHex(channel.jobId))!;
    return join(r.hi, r.lo);
  }

  /** The redeem transaction's hash, recorded before it is broadcast. */
  markSubmitted(voucherId: number, txHash: string): void {
    this.st.setSubmitted.run(txHash, this.now(), voucherId);
  }

  voucher(id: number): StoredVoucher | undefined {
    const row = this.st.voucherById.get(id);
    return row ? toStored(row) : undefined;
  }

  redeemableVouchers(ctx: ChainContext, nowSec = Math.floor(this.now() / 1000)): StoredVoucher[] {
    return this.st.redeemable.all(ctx.chainId, getAddress(ctx.escrow), nowSec).map(toStored);
  }

  /** A `Redeemed` event seen on chain (from our own receipt or from reconciliation). Idempotent. */
  recordRedemption(ev: RedemptionEvent): boolean {
    const escrow = getAddress(ev.escrow);
    const jobKey = lowerHex(ev.jobId);
    return this.db.transaction(() => {
      const inserted =
        this.st.insertRedemption.run(ev.chainId, escrow, ev.txHash, ev.logIndex, ev.blockNumber, ev.blockTime, getAddress(ev.buyer), getAddress(ev.provider), jobKey, ev.amount.toString(), ev.cumulative.toString())
          .changes > 0;
      // Vouchers this payment covers are redeemed (by this tx, unless an earlier one already did).
      for (const v of this.st.vouchersOfChannel.all(ev.chainId, escrow, jobKey)) {
        if (v.buyer !== getAddress(ev.buyer) || v.provider !== getAddress(ev.provider)) continue;
        if (BigInt(v.cumulative_amount) <= ev.cumulative && (v.status !== 'redeemed' || v.redeem_tx === null)) {
          this.st.setVoucherStatus.run('redeemed', ev.txHash, ev.blockNumber, v.id);
        }
      }
      this.updateJob({ chainId: ev.chainId, escrow, buyer: ev.buyer, provider: ev.provider }, jobKey, ev.blockTime, (s) => {
        if (ev.cumulative >= s.paid) {
          s.paid = ev.cumulative;
          s.redeemTx = ev.txHash;
          s.redeemBlock = ev.blockNumber;
        }
        s.vouched = maxBig(s.vouched, ev.cumulative);
      });
      return inserted;
    })();
  }

  /** Vouchers (and jobs) whose expiry has passed unredeemed become expired (`nowMs`: the chain's time when it runs ahead). */
  expireDue(nowMs = this.now()): number {
    const nowSec = Math.floor(nowMs / 1000);
    return this.db.transaction(() => {
      const changed = this.db.prepare("UPDATE ledger_vouchers SET status = 'expired' WHERE status = 'redeemable' AND expiry < ?").run(nowSec).changes;
      const rows = this.db
        .prepare<[number], EarningsRow>("SELECT id, job_id, owed, vouched, paid, expiry, buyer, provider, redeem_tx, redeem_block FROM ledger_earnings WHERE status = 'redeemable' AND expiry < ?")
        .all(nowSec);
      for (const r of rows) {
        this.writeJob(r.id, r.job_id, { owed: BigInt(r.owed), vouched: BigInt(r.vouched), paid: BigInt(r.paid), expiry: r.expiry, buyer: r.buyer, provider: r.provider, redeemTx: r.redeem_tx, redeemBlock: r.redeem_block }, nowSec);
      }
      return changed;
    })();
  }

  recordWithdrawal(w: { chainId: number; token: string; from: string; to: string; amount: bigint; txHash: string }): number {
    const [hi, lo] = split(w.amount);
    return Number(
      this.db
        .prepare(
          "INSERT INTO ledger_withdrawals (chain_id, token, from_address, to_address, amount, amount_hi, amount_lo, status, tx_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)",
        )
        .run(w.chainId, getAddress(w.token), getAddress(w.from), getAddress(w.to), w.amount.toString(), hi, lo, w.txHash, this.now()).lastInsertRowid,
    );
  }

  settleWithdrawal(id: number, outcome: { blockNumber: number } | { error: string }): void {
    if ('blockNumber' in outcome) this.db.prepare("UPDATE ledger_withdrawals SET status = 'confirmed', block_number = ? WHERE id = ?").run(outcome.blockNumber, id);
    else this.db.prepare("UPDATE ledger_withdrawals SET status = 'failed', error = ? WHERE id = ?").run(outcome.error, id);
  }

  pendingWithdrawals(): { id: number; txHash: string }[] {
    return this.db.prepare<[], { id: number; txHash: string }>("SELECT id, tx_hash AS txHash FROM ledger_withdrawals WHERE status = 'sent'").all();
  }

  lastSyncedBlock(ctx: ChainContext, provider: string): number | null {
    const row = this.db
      .prepare<[number, string, string], { last_block: number }>('SELECT last_block FROM ledger_sync WHERE chain_id = ? AND escrow = ? AND provider = ?')
      .get(ctx.chainId, getAddress(ctx.escrow), getAddress(provider));
    return row?.last_block ?? null;
  }

  setSyncedBlock(ctx: ChainContext, provider: string, block: number): void {
    this.db
      .prepare(
        'INSERT INTO ledger_sync (chain_id, escrow, provider, last_block, synced_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(chain_id, escrow, provider) DO UPDATE SET last_block = excluded.last_block, synced_at = excluded.synced_at',
      )
      .run(ctx.chainId, getAddress(ctx.escrow), getAddress(provider), block, this.now());
  }

  // ── reading ───────────────────────────────────────────────────────────

  /** All-time totals: one row kept by the triggers, plus the (small) withdrawals table. */
  totals(): EarningsTotals {
    const row = this.st.totals.get() as Record<string, bigint>;
    const w = this.st.withdrawn.get() as { hi: bigint | null; lo: bigint | null };
    const part = (p: Part) => join(row[`${p}_hi`]!, row[`${p}_lo`]!).toString();
    return {
      pending: part('pending'),
      redeemable: part('redeemable'),
      redeemed: part('redeemed'),
      expired: part('expired'),
      earned: part('earned'),
      withdrawn: join(w.hi, w.lo).toString(),
      jobs: Number(row.jobs),
    };
  }

  /** Sum over [fromMs, toMs) of the 15-minute buckets (both multiples of 15 minutes in practice). */
  private sumRange(fromMs: number, toMs: number): { earned: bigint; redeemed: bigint; jobs: number } {
    const r = this.st.bucketRange.get(Math.floor(fromMs / BUCKET_MS), Math.floor(toMs / BUCKET_MS)) as Record<string, bigint | null>;
    return { earned: join(r.eh ?? null, r.el ?? null), redeemed: join(r.rh ?? null, r.rl ?? null), jobs: Number(r.jobs ?? 0n) };
  }

  /** Earnings by local day, ISO week (Monday) or month, from `from` to `to` (local dates, inclusive). */
  series(unit: 'day' | 'week' | 'month', from: string, to: string, timeZone: string): SeriesPoint[] {
    if (parseDateKey(from) && parseDateKey(to) && from > to) throw new AppError('invalid-input', `The range starts (${from}) after it ends (${to}).`);
    const points: SeriesPoint[] = [];
    const days = dateRange(from, to);
    // Each local day is a range of 15-minute buckets; one statement sums them all.
    const bounds: number[] = [];
    for (const day of [...days, parseDateKey(addDays(to, 1))]) bounds.push(Math.floor(startOfDay(day.y, day.m, day.d, timeZone) / BUCKET_MS));
    const sums = new Map<number, { earned: bigint; redeemed: bigint; jobs: number }>();
    for (let chunk = 0; chunk < days.length; chunk += 2000) {
      const n = Math.min(2000, days.length - chunk);
      const values = Array.from({ length: n }, () => '(?, ?, ?)').join(', ');
      const params: number[] = [];
      for (let i = chunk; i < chunk + n; i++) params.push(i, bounds[i]!, bounds[i + 1]!);
      const rows = this.db
        .prepare(
          `WITH d(i, s, e) AS (VALUES ${values})
           SELECT d.i AS i, sum(b.jobs) AS jobs, sum(b.earned_hi) AS eh, sum(b.earned_lo) AS el, sum(b.redeemed_hi) AS rh, sum(b.redeemed_lo) AS rl
           FROM d JOIN ledger_buckets b ON b.bucket >= d.s AND b.bucket < d.e GROUP BY d.i`,
        )
        .safeIntegers(true)
        .all(...params) as { i: bigint; jobs: bigint; eh: bigint; el: bigint; rh: bigint; rl: bigint }[];
      for (const r of rows) sums.set(Number(r.i), { earned: join(r.eh, r.el), redeemed: join(r.rh, r.rl), jobs: Number(r.jobs) });
    }
    let current: { period: string; earned: bigint; redeemed: bigint; jobs: number } | undefined;
    days.forEach((day, i) => {
      const sum = sums.get(i) ?? { earned: 0n, redeemed: 0n, jobs: 0 };
      const period = unit === 'day' ? day.key : unit === 'week' ? weekStart(day.key) : day.key.slice(0, 7);
      if (!current || current.period !== period) {
        if (current) points.push({ period: current.period, earned: current.earned.toString(), redeemed: current.redeemed.toString(), jobs: current.jobs });
        current = { period, earned: 0n, redeemed: 0n, jobs: 0 };
      }
      current.earned += sum.earned;
      current.redeemed += sum.redeemed;
      current.jobs += sum.jobs;
    });
    if (current) points.push({ period: current.period, earned: current.earned.toString(), redeemed: current.redeemed.toString(), jobs: current.jobs });
    return points;
  }

  /** Earned in [fromMs, toMs). */
  earnedBetween(fromMs: number, toMs: number): bigint {
    return this.sumRange(fromMs, toMs).earned;
  }

  /**
   * Earnings by GPU: a job's amount is shared equally by the GPUs it ran on (the remainder of
   * the division to the first GPU by key), so the GPUs add up to the total exactly. Jobs with
   * no GPU recorded are listed under "unassigned".
   */
  byGpu(fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): { gpuKey: string; earned: string; jobs: number }[] {
    const rows = this.db
      .prepare(
        `SELECT g.gpu_key AS gpu, e.earned_hi AS hi, e.earned_lo AS lo,
                (SELECT count(*) FROM job_gpus c WHERE c.job_id = e.job_id) AS n,
                (SELECT count(*) FROM job_gpus c WHERE c.job_id = e.job_id AND c.gpu_key < g.gpu_key) AS rank
         FROM ledger_earnings e LEFT JOIN job_gpus g ON g.job_id = e.job_id
         WHERE e.at >= ? AND e.at < ?`,
      )
      .safeIntegers(true)
      .all(fromMs, toMs) as { gpu: string | null; hi: bigint; lo: bigint; n: bigint; rank: bigint }[];
    const out = new Map<string, { earned: bigint; jobs: number }>();
    for (const r of rows) {
      const amount = join(r.hi, r.lo);
      const key = r.gpu ?? 'unassigned';
      const n = r.gpu ? r.n : 1n;
      const share = amount / n + (r.rank === 0n ? amount % n : 0n);
      const entry = out.get(key) ?? { earned: 0n, jobs: 0 };
      entry.earned += share;
      entry.jobs += 1;
      out.set(key, entry);
    }
    return [...out.entries()].map(([gpuKey, v]) => ({ gpuKey, earned: v.earned.toString(), jobs: v.jobs })).sort((a, b) => a.gpuKey.localeCompare(b.gpuKey));
  }

  private static readonly JOB_SELECT = `
    SELECT e.market_job_id, e.job_id, e.at, e.vouched, e.owed, e.paid, e.status, e.redeem_tx, CAST(e.earned_hi AS TEXT) AS earned_hi, CAST(e.earned_lo AS TEXT) AS earned_lo,
           j.started_at, j.ended_at,
           (SELECT group_concat(gpu_key, ';') FROM job_gpus WHERE job_id = e.job_id) AS gpus
    FROM ledger_earnings e LEFT JOIN jobs j ON j.id = e.job_id`;

  private static toRow(r: Record<string, unknown>): EarningRow {
    const started = r.started_at as number | null;
    const ended = r.ended_at as number | null;
    return {
      marketJobId: r.market_job_id as string,
      jobId: (r.job_id as string | null) ?? null,
      at: Number(r.at),
      gpus: r.gpus ? String(r.gpus).split(';') : [],
      durationMs: started !== null && ended !== null ? Number(ended) - Number(started) : null,
      earned: joinText(r.earned_hi as string, r.earned_lo as string),
      paid: String(r.paid),
      status: r.status as EarningStatus,
      redeemTx: (r.redeem_tx as string | null) ?? null,
    };
  }

  /** The job table, newest first. */
  jobs(limit = 100, offset = 0): { jobs: EarningRow[]; total: number } {
    const rows = this.db.prepare(`${Ledger.JOB_SELECT} ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?`).all(limit, offset) as Record<string, unknown>[];
    return { jobs: rows.map(Ledger.toRow), total: this.totals().jobs };
  }

  /**
   * CSV, one row a job in [fromMs, toMs), oldest first: date (ISO 8601 in the owner's zone, with
   * its offset), job id, GPUs (";"-separated), duration in seconds, amount earned in tokens
   * (exact decimal), token symbol, voucher status, redeem transaction.
   */
  exportCsv(options: { fromMs?: number; toMs?: number; timeZone: string; decimals: number; symbol: string }): { csv: string; rows: number } {
    const lines = ['date,job_id,local_job_id,gpus,duration_s,amount,token,status,redeem_tx'];
    const offsets = new Map<number, { off: number; day: string; zone: string; dayStart: number }>();
    const symbol = csvField(options.symbol);
    const stmt = this.db
      .prepare(
        `SELECT e.at, e.market_job_id, e.job_id, (SELECT group_concat(gpu_key, ';') FROM job_gpus WHERE job_id = e.job_id) AS gpus,
                j.started_at, j.ended_at, CAST(e.earned_hi AS TEXT), CAST(e.earned_lo AS TEXT), e.status, e.redeem_tx
         FROM ledger_earnings e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.at >= ? AND e.at < ? ORDER BY e.at, e.id`,
      )
      .raw(true);
    for (const raw of stmt.iterate(options.fromMs ?? 0, options.toMs ?? Number.MAX_SAFE_INTEGER)) {
      const [at, marketJobId, jobId, gpus, started, ended, hi, lo, status, redeemTx] = raw as [number, string, string | null, string | null, number | null, number | null, string, string, string, string | null];
      const bucket = Math.floor(at / BUCKET_MS);
      let local = offsets.get(bucket);
      if (local === undefined) {
        const off = offsetMs(bucket * BUCKET_MS, options.timeZone);
        // The local date and the zone suffix are the same for the whole bucket; only the time of day varies.
        local = { off, day: isoLocal(bucket * BUCKET_MS, off).slice(0, 11), zone: isoLocal(bucket * BUCKET_MS, off).slice(19), dayStart: 0 };
        const localMs = bucket * BUCKET_MS + off;
        local.dayStart = localMs - (((localMs % 86_400_000) + 86_400_000) % 86_400_000);
        offsets.set(bucket, local);
      }
      const duration = started !== null && ended !== null ? String(Math.round((ended - started) / 1000)) : '';
      lines.push(
        `${local.day}${timeOfDay(at + local.off - local.dayStart)}${local.zone},${csvField(marketJobId)},${jobId === null ? '' : csvField(jobId)},${gpus === null ? '' : csvField(gpus)},${duration},${formatDigits(joinText(hi, lo), options.decimals)},${symbol},${status},${redeemTx ?? ''}`,
      );
    }
    return { csv: lines.join('\n') + '\n', rows: lines.length - 1 };
  }
}

/** hi and lo (as SQLite's exact text) to the amount's decimal digits, without float or BigInt. */
function joinText(hi: string, lo: string): string {
  return hi === '0' ? lo : hi + lo.padStart(12, '0');
}

function formatDigits(digitsIn: string, decimals: number): string {
  if (decimals === 0) return digitsIn;
  const digits = digitsIn.padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  let end = digits.length;
  while (end > cut && digits.charCodeAt(end - 1) === 48) end--;
  return end === cut ? digits.slice(0, cut) : `${digits.slice(0, cut)}.${digits.slice(cut, end)}`;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));
function timeOfDay(msIntoDay: number): string {
  const s = Math.floor(msIntoDay / 1000);
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

function isoLocal(utcMs: number, offset: number): string {
  const d = new Date(utcMs + offset);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

function toStored(r: VoucherRow): StoredVoucher {
  return {
    id: r.id,
    chainId: r.chain_id,
    escrow: r.escrow,
    voucher: { buyer: r.buyer, provider: r.provider, jobId: r.market_job_id, cumulativeAmount: r.cumulative_amount, expiry: r.expiry },
    signature: r.signature,
    status: r.status,
    submittedTx: r.submitted_tx,
    redeemTx: r.redeem_tx,
    redeemBlock: r.redeem_block,
    receivedAt: r.received_at,
  };
}
