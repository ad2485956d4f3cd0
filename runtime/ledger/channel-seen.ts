/** Whether the ledger has any record of a payment channel: a usage report, a voucher or a redemption. */
import type { Db } from '../storage/database.js';
import { prepared } from '../storage/prepared.js';

export interface LedgerChannelKey {
  chainId: number;
  /** Checksummed, like every address the ledger stores. */
  escrow: string;
  buyer: string;
  provider: string;
  /** The contract's bytes32 job id, lower-case hex. */
  jobKey: string;
}

/** Usage reports from before migration 005 name no buyer: any report of the job id counts. */
export function ledgerHasChannel(db: Db, k: LedgerChannelKey): boolean {
  if (prepared(db, 'SELECT 1 FROM ledger_usage_reports WHERE chain_id = ? AND escrow = ? AND market_job_id = ? LIMIT 1').get(k.chainId, k.escrow, k.jobKey)) return true;
  const byChannel = [
    'SELECT 1 FROM ledger_vouchers WHERE chain_id = ? AND escrow = ? AND market_job_id = ? AND buyer = ? AND provider = ? LIMIT 1',
    'SELECT 1 FROM ledger_redemptions WHERE chain_id = ? AND escrow = ? AND market_job_id = ? AND buyer = ? AND provider = ? LIMIT 1',
  ];
  return byChannel.some((sql) => prepared(db, sql).get(k.chainId, k.escrow, k.jobKey, k.buyer, k.provider) !== undefined);
}
