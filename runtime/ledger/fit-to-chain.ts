/**
 * Bringing the count to what the chain would pay: a buyer's vouchers fitted to its escrow
 * deposit, and a job's rows built again from the record after vouchers left the count.
 */
import { maxBig } from './amount.js';
import type { LedgerCore } from './core.js';
import { getAddress, lowerHex, toStored, type ChainContext, type VoucherRow } from './records.js';
import { recordRefusedVoucher } from './vouchers.js';

/**
 * Builds a job id's rows again from the record (counted vouchers, redemptions, usage reports),
 * one row a channel: after vouchers were taken out of the count. Usage reports from before
 * migration 005 name no buyer: they go to `usageChannel` (the job's buyer), when known.
 */
export function rebuildJob(core: LedgerCore, ctx: ChainContext, marketJobId: string, usageChannel?: { buyer: string; provider: string }): void {
  const escrow = getAddress(ctx.escrow);
  const jobKey = lowerHex(marketJobId);
  core.db.transaction(() => {
    core.db.prepare('DELETE FROM ledger_earnings WHERE chain_id = ? AND escrow = ? AND market_job_id = ?').run(ctx.chainId, escrow, jobKey);
    const vouchers = core.db.prepare<[number, string, string], VoucherRow>('SELECT * FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY id').all(ctx.chainId, escrow, jobKey);
    for (const v of vouchers) {
      core.updateJob({ ...ctx, buyer: v.buyer, provider: v.provider }, jobKey, v.received_at, (s) => {
        const amount = BigInt(v.cumulative_amount);
        if (amount > s.vouched || (amount === s.vouched && (s.expiry ?? 0) < v.expiry)) {
          s.vouched = amount;
          s.expiry = v.expiry;
        }
      });
    }
    const redemptions = core.db
      .prepare<[number, string, string], { buyer: string; provider: string; cumulative: string; tx_hash: string; block_number: number; block_time: number }>(
        'SELECT buyer, provider, cumulative, tx_hash, block_number, block_time FROM ledger_redemptions WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY block_number, log_index',
      )
      .all(ctx.chainId, escrow, jobKey);
    for (const r of redemptions) {
      core.updateJob({ ...ctx, buyer: r.buyer, provider: r.provider }, jobKey, r.block_time, (s) => {
        const cumulative = BigInt(r.cumulative);
        if (cumulative >= s.paid) {
          s.paid = cumulative;
          s.redeemTx = r.tx_hash;
          s.redeemBlock = r.block_number;
        }
        s.vouched = maxBig(s.vouched, cumulative);
      });
    }
    const usage = core.db
      .prepare<[number, string, string], { buyer: string | null; provider: string | null; amount: string; reported_at: number }>(
        'SELECT buyer, provider, amount, reported_at FROM ledger_usage_reports WHERE chain_id = ? AND escrow = ? AND market_job_id = ? ORDER BY id',
      )
      .all(ctx.chainId, escrow, jobKey);
    for (const u of usage) {
      const channel = u.buyer && u.provider ? { buyer: u.buyer, provider: u.provider } : usageChannel;
      if (!channel) continue;
      core.updateJob({ ...ctx, ...channel }, jobKey, u.reported_at, (s) => {
        s.owed = maxBig(s.owed, BigInt(u.amount));
      });
    }
  })();
}

/** The buyers with something redeemable here, for a re-check against the escrow. */
export function buyersWithRedeemable(core: LedgerCore, ctx: ChainContext): { buyer: string; provider: string; jobIds: string[] }[] {
  const rows = core.db
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
export function fitToChain(core: LedgerCore, ctx: ChainContext, buyerIn: string, providerIn: string, deposit: bigint, paidOnChain: ReadonlyMap<string, bigint> = new Map()): number {
  const escrow = getAddress(ctx.escrow);
  const buyer = getAddress(buyerIn);
  const provider = getAddress(providerIn);
  const nowSec = Math.floor(core.now() / 1000);
  return core.db.transaction(() => {
    let available = deposit;
    let taken = 0;
    const rows = core.st.channelsOfBuyer.all(ctx.chainId, escrow, buyer, provider);
    for (const row of rows) {
      const paid = maxBig(BigInt(row.paid), paidOnChain.get(row.market_job_id) ?? 0n);
      const vouchers = core.st.openVouchersOfChannel
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
          core.st.setVoucherStatus.run('redeemed', null, null, v.id);
          continue;
        }
        if (best === undefined && value <= available) {
          best = v;
          available -= value;
          continue;
        }
        if (best !== undefined) continue;
        core.st.deleteVoucher.run(v.id);
        recordRefusedVoucher(core, {
          ctx,
          signed: toStored(v),
          kind: 'uncovered',
          reason: `it was counted, but the buyer's escrow deposit (${deposit}) no longer covers the ${amount - paid} base units it adds beyond the ${paid} already paid, with the buyer's other vouchers here; the escrow would refuse to pay it`,
          expected: { buyer, jobId: row.market_job_id },
          receivedAt: v.received_at,
        });
        taken++;
      }
      core.updateJob({ chainId: ctx.chainId, escrow, buyer, provider }, row.market_job_id, core.now(), (s) => {
        s.paid = paid;
        s.vouched = best ? maxBig(BigInt(best.cumulative_amount), paid) : paid;
        if (best) s.expiry = best.expiry;
      });
    }
    return taken;
  })();
}
