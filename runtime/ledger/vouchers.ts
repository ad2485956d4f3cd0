/**
 * Vouchers in the ledger: counted ones (only a CheckedVoucher is counted), refused ones kept
 * apart as evidence and never summed, and what the redeem and the checks read back.
 */
import { AppError } from '../errors.js';
import { isCheckedVoucher, type CheckedVoucher, type Channel, type RefusalKind } from '../market/voucher-check.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { join, maxBig, split } from './amount.js';
import type { LedgerCore } from './core.js';
import { getAddress, lowerHex, toStored, withPayee, type ChainContext, type RefusedVoucher, type StoredVoucher, type VoucherRow } from './records.js';

/**
 * Stores a voucher that passed every check for its channel (only the check makes a
 * CheckedVoucher), before anything is sent so none is lost, and counts it on its channel's
 * row. Returns it as stored; storing the same voucher again returns the same row.
 */
export function recordVoucher(core: LedgerCore, checked: CheckedVoucher, receivedAt = core.now()): StoredVoucher {
  if (!isCheckedVoucher(checked)) throw new AppError('voucher-unchecked', 'Only a voucher that passed the voucher check can be counted in the ledger.');
  const { signed, channel } = checked;
  const v = signed.voucher;
  const cumulative = BigInt(v.cumulativeAmount);
  split(cumulative);
  const args = [channel.chainId, channel.escrow, channel.buyer, channel.provider, channel.jobId, v.cumulativeAmount, v.expiry, signed.signature.toLowerCase()];
  return core.db.transaction(() => {
    const inserted = core.st.insertVoucher.run(...args, receivedAt, core.now(), v.payee === undefined ? null : getAddress(v.payee)).changes > 0;
    const row = core.st.voucherByUnique.get(...args)!;
    if (inserted) {
      core.updateJob(channel, channel.jobId, receivedAt, (s) => {
        if (cumulative > s.vouched || (cumulative === s.vouched && (s.expiry ?? 0) < v.expiry)) {
          s.vouched = cumulative;
          s.expiry = v.expiry;
        }
        // What the escrow had paid the channel when the voucher was checked: never counted as redeemable.
        s.paid = maxBig(s.paid, checked.paidOnChain);
        // Already covered by a payment we know of (the chain paid a later voucher first).
        if (cumulative <= s.paid) core.st.setVoucherStatus.run('redeemed', s.redeemTx, s.redeemBlock, row.id);
        else if (v.expiry < Math.floor(core.now() / 1000)) core.st.setVoucherStatus.run('expired', null, null, row.id);
      });
    }
    return toStored(core.st.voucherById.get(row.id)!);
  })();
}

/** A voucher that failed a check: kept apart as evidence (the newest MAX_REFUSED_VOUCHERS), never summed. */
export function recordRefusedVoucher(core: LedgerCore, r: { ctx: ChainContext; signed: SignedVoucher; kind: RefusalKind; reason: string; expected?: Pick<Channel, 'buyer' | 'jobId'>; receivedAt?: number }): number {
  const v = r.signed.voucher;
  return core.db.transaction(() => {
    const id = Number(
      core.st.insertRefused.run(
        r.ctx.chainId,
        getAddress(r.ctx.escrow),
        getAddress(v.buyer),
        getAddress(v.provider),
        lowerHex(v.jobId),
        v.cumulativeAmount,
        v.expiry,
        r.signed.signature.toLowerCase(),
        r.receivedAt ?? core.now(),
        r.expected ? getAddress(r.expected.buyer) : null,
        r.expected ? lowerHex(r.expected.jobId) : null,
        r.kind,
        r.reason.slice(0, 1000),
        v.payee === undefined ? null : getAddress(v.payee),
      ).lastInsertRowid,
    );
    core.st.trimRefused.run();
    return id;
  })();
}

/** Refused vouchers, newest first. */
export function refusedVouchers(core: LedgerCore, limit = 100, offset = 0): { vouchers: RefusedVoucher[]; total: number } {
  const rows = core.db.prepare('SELECT * FROM ledger_refused_vouchers ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as Record<string, unknown>[];
  const total = (core.db.prepare('SELECT count(*) AS n FROM ledger_refused_vouchers').get() as { n: number }).n;
  return {
    total,
    vouchers: rows.map((r) => ({
      id: r.id as number,
      chainId: r.chain_id as number,
      escrow: r.escrow as string,
      voucher: withPayee({ buyer: r.buyer as string, provider: r.provider as string, jobId: r.market_job_id as string, cumulativeAmount: r.cumulative_amount as string, expiry: r.expiry as number }, r.payee as string | null),
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
export function findVoucher(core: LedgerCore, signed: SignedVoucher): StoredVoucher | undefined {
  const v = signed.voucher;
  const row = core.db
    .prepare<unknown[], VoucherRow>('SELECT * FROM ledger_vouchers WHERE buyer = ? AND provider = ? AND market_job_id = ? AND cumulative_amount = ? AND expiry = ? AND signature = ? LIMIT 1')
    .get(getAddress(v.buyer), getAddress(v.provider), lowerHex(v.jobId), v.cumulativeAmount, v.expiry, signed.signature.toLowerCase());
  return row ? toStored(row) : undefined;
}

/** Vouchers counted before migration 005 (never checked against their job's buyer), oldest first. */
export function uncheckedVouchers(core: LedgerCore, limit = 1000): StoredVoucher[] {
  return core.db.prepare<[number], VoucherRow>('SELECT * FROM ledger_vouchers WHERE checked_at IS NULL ORDER BY id LIMIT ?').all(limit).map(toStored);
}

export function markChecked(core: LedgerCore, voucherId: number): void {
  core.db.prepare('UPDATE ledger_vouchers SET checked_at = ? WHERE id = ?').run(core.now(), voucherId);
}

/** Takes a counted voucher out of the count, kept as refused evidence (its job's rows are then rebuilt by the caller). */
export function uncount(core: LedgerCore, voucherId: number, kind: RefusalKind, reason: string, expected?: Pick<Channel, 'buyer' | 'jobId'>): void {
  const v = core.st.voucherById.get(voucherId);
  if (!v) return;
  core.db.transaction(() => {
    core.st.deleteVoucher.run(voucherId);
    recordRefusedVoucher(core, { ctx: { chainId: v.chain_id, escrow: v.escrow }, signed: toStored(v), kind, reason, expected, receivedAt: v.received_at });
  })();
}

/** The highest counted voucher of a channel received since `sinceMs` (0 when none). */
export function bestCheckedSince(core: LedgerCore, channel: Channel, sinceMs: number): bigint {
  let best = 0n;
  for (const r of core.st.vouchersOfFullChannel.all(channel.chainId, getAddress(channel.escrow), getAddress(channel.buyer), getAddress(channel.provider), lowerHex(channel.jobId), sinceMs)) {
    best = maxBig(best, BigInt(r.cumulative_amount));
  }
  return best;
}

/** What a buyer's vouchers on its other channels held here still promise (the same deposit pays them). */
export function owedByBuyerElsewhere(core: LedgerCore, channel: Channel): bigint {
  const r = core.st.redeemableOfBuyer.get(channel.chainId, getAddress(channel.escrow), getAddress(channel.buyer), getAddress(channel.provider), lowerHex(channel.jobId))!;
  return join(r.hi, r.lo);
}

/** The redeem transaction's hash, recorded before it is broadcast. */
export function markSubmitted(core: LedgerCore, voucherId: number, txHash: string): void {
  core.st.setSubmitted.run(txHash, core.now(), voucherId);
}

export function voucher(core: LedgerCore, id: number): StoredVoucher | undefined {
  const row = core.st.voucherById.get(id);
  return row ? toStored(row) : undefined;
}

export function redeemableVouchers(core: LedgerCore, ctx: ChainContext, nowSec = Math.floor(core.now() / 1000)): StoredVoucher[] {
  return core.st.redeemable.all(ctx.chainId, getAddress(ctx.escrow), nowSec).map(toStored);
}
