/** What a job is owed and paid: usage reports, redemptions seen on chain, and vouchers that expired unredeemed. */
import { maxBig, split } from './amount.js';
import type { LedgerCore } from './core.js';
import { getAddress, lowerHex, type ChannelContext, type EarningsRow, type RedemptionEvent } from './records.js';

/** A usage report: the cumulative amount owed for a job (on its buyer's channel to us) so far. */
export function recordUsageReport(core: LedgerCore, ctx: ChannelContext, report: { marketJobId: string; amount: bigint; at?: number; usage?: unknown }): void {
  const at = report.at ?? core.now();
  split(report.amount);
  core.db.transaction(() => {
    core.st.insertUsage.run(
      ctx.chainId,
      getAddress(ctx.escrow),
      getAddress(ctx.buyer),
      getAddress(ctx.provider),
      lowerHex(report.marketJobId),
      at,
      report.amount.toString(),
      report.usage === undefined ? null : JSON.stringify(report.usage),
    );
    core.updateJob(ctx, report.marketJobId, at, (s) => {
      s.owed = maxBig(s.owed, report.amount);
    });
  })();
}

/** A `Redeemed` event seen on chain (from our own receipt or from reconciliation). Idempotent. */
export function recordRedemption(core: LedgerCore, ev: RedemptionEvent): boolean {
  const escrow = getAddress(ev.escrow);
  const jobKey = lowerHex(ev.jobId);
  return core.db.transaction(() => {
    const inserted =
      core.st.insertRedemption.run(ev.chainId, escrow, ev.txHash, ev.logIndex, ev.blockNumber, ev.blockTime, getAddress(ev.buyer), getAddress(ev.provider), jobKey, ev.amount.toString(), ev.cumulative.toString(), ev.payee ? getAddress(ev.payee) : null)
        .changes > 0;
    // Vouchers this payment covers are redeemed (by this tx, unless an earlier one already did).
    for (const v of core.st.vouchersOfChannel.all(ev.chainId, escrow, jobKey)) {
      if (v.buyer !== getAddress(ev.buyer) || v.provider !== getAddress(ev.provider)) continue;
      if (BigInt(v.cumulative_amount) <= ev.cumulative && (v.status !== 'redeemed' || v.redeem_tx === null)) {
        core.st.setVoucherStatus.run('redeemed', ev.txHash, ev.blockNumber, v.id);
      }
    }
    core.updateJob({ chainId: ev.chainId, escrow, buyer: ev.buyer, provider: ev.provider }, jobKey, ev.blockTime, (s) => {
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
export function expireDue(core: LedgerCore, nowMs = core.now()): number {
  const nowSec = Math.floor(nowMs / 1000);
  return core.db.transaction(() => {
    const changed = core.db.prepare("UPDATE ledger_vouchers SET status = 'expired' WHERE status = 'redeemable' AND expiry < ?").run(nowSec).changes;
    const rows = core.db
      .prepare<[number], EarningsRow>("SELECT id, job_id, owed, vouched, paid, expiry, buyer, provider, redeem_tx, redeem_block FROM ledger_earnings WHERE status = 'redeemable' AND expiry < ?")
      .all(nowSec);
    for (const r of rows) {
      core.writeJob(r.id, r.job_id, { owed: BigInt(r.owed), vouched: BigInt(r.vouched), paid: BigInt(r.paid), expiry: r.expiry, buyer: r.buyer, provider: r.provider, redeemTx: r.redeem_tx, redeemBlock: r.redeem_block }, nowSec);
    }
    return changed;
  })();
}
