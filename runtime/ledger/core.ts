/**
 * What every ledger write shares: the prepared statements, and the one way a job's earnings row
 * (one a channel) is found or made, changed and given its status and parts again (classify.ts).
 */
import type { Db } from '../storage/database.js';
import { maxBig, split } from './amount.js';
import { classify, PARTS } from './classify.js';
import { getAddress, lowerHex, MAX_REFUSED_VOUCHERS, type ChannelContext, type EarningsRow, type VoucherRow } from './records.js';

/** A job's earnings row while it is changed. */
export interface JobAmounts {
  owed: bigint;
  vouched: bigint;
  paid: bigint;
  expiry: number | null;
  buyer: string | null;
  provider: string | null;
  redeemTx: string | null;
  redeemBlock: number | null;
}

export class LedgerCore {
  readonly st;

  constructor(
    readonly db: Db,
    readonly now: () => number,
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
        `INSERT OR IGNORE INTO ledger_vouchers (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature, received_at, checked_at, payee, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'redeemable')`,
      ),
      insertRefused: db.prepare(
        `INSERT INTO ledger_refused_vouchers (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature, received_at, expected_buyer, expected_job_id, kind, reason, payee)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        `INSERT OR IGNORE INTO ledger_redemptions (chain_id, escrow, tx_hash, log_index, block_number, block_time, buyer, provider, market_job_id, amount, cumulative, payee)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      totals: db.prepare(`SELECT jobs, ${partCols.join(', ')} FROM ledger_totals WHERE id = 1`).safeIntegers(true),
      withdrawn: db.prepare("SELECT sum(amount_hi) AS hi, sum(amount_lo) AS lo FROM ledger_withdrawals WHERE status = 'confirmed'").safeIntegers(true),
      bucketRange: db
        .prepare('SELECT sum(jobs) AS jobs, sum(earned_hi) AS eh, sum(earned_lo) AS el, sum(redeemed_hi) AS rh, sum(redeemed_lo) AS rl FROM ledger_buckets WHERE bucket >= ? AND bucket < ?')
        .safeIntegers(true),
    };
  }

  /** Finds or creates a job's earnings row, applies `change`, and re-derives its status and parts. */
  updateJob(
    ctx: ChannelContext,
    marketJobId: string,
    fallbackAt: number,
    change: (row: JobAmounts) => void,
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

  writeJob(
    id: number,
    jobId: string | null,
    s: JobAmounts,
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
}
