/** Withdrawals from the wallet (sent, then confirmed or failed), and how far the chain was read for redemptions. */
import { split } from './amount.js';
import type { LedgerCore } from './core.js';
import { getAddress, type ChainContext } from './records.js';

export function recordWithdrawal(core: LedgerCore, w: { chainId: number; token: string; from: string; to: string; amount: bigint; txHash: string }): number {
  const [hi, lo] = split(w.amount);
  return Number(
    core.db
      .prepare(
        "INSERT INTO ledger_withdrawals (chain_id, token, from_address, to_address, amount, amount_hi, amount_lo, status, tx_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)",
      )
      .run(w.chainId, getAddress(w.token), getAddress(w.from), getAddress(w.to), w.amount.toString(), hi, lo, w.txHash, core.now()).lastInsertRowid,
  );
}

export function settleWithdrawal(core: LedgerCore, id: number, outcome: { blockNumber: number } | { error: string }): void {
  if ('blockNumber' in outcome) core.db.prepare("UPDATE ledger_withdrawals SET status = 'confirmed', block_number = ? WHERE id = ?").run(outcome.blockNumber, id);
  else core.db.prepare("UPDATE ledger_withdrawals SET status = 'failed', error = ? WHERE id = ?").run(outcome.error, id);
}

export function pendingWithdrawals(core: LedgerCore): { id: number; txHash: string }[] {
  return core.db.prepare<[], { id: number; txHash: string }>("SELECT id, tx_hash AS txHash FROM ledger_withdrawals WHERE status = 'sent'").all();
}

export function lastSyncedBlock(core: LedgerCore, ctx: ChainContext, provider: string): number | null {
  const row = core.db
    .prepare<[number, string, string], { last_block: number }>('SELECT last_block FROM ledger_sync WHERE chain_id = ? AND escrow = ? AND provider = ?')
    .get(ctx.chainId, getAddress(ctx.escrow), getAddress(provider));
  return row?.last_block ?? null;
}

export function setSyncedBlock(core: LedgerCore, ctx: ChainContext, provider: string, block: number): void {
  core.db
    .prepare(
      'INSERT INTO ledger_sync (chain_id, escrow, provider, last_block, synced_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(chain_id, escrow, provider) DO UPDATE SET last_block = excluded.last_block, synced_at = excluded.synced_at',
    )
    .run(ctx.chainId, getAddress(ctx.escrow), getAddress(provider), block, core.now());
}
