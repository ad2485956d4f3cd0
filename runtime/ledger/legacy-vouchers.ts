/**
 * Vouchers counted before migration 005 were stored when their signature was the buyer's they
 * named, but never checked against the buyer of the job they came for: a counterfeit (any key
 * naming itself the buyer) was summed into the job's row. Each is checked again, once, with what
 * can be checked without the chain: the signature for its escrow and chain, and the buyer of its
 * market job (market_jobs). One that fails leaves the count (kept as refused evidence) and its
 * job's rows are rebuilt by channel. The escrow's part (deposit, paid) is the wallet's re-check
 * after reconciliation (fitToChain), which follows this.
 */
import { getAddress } from 'ethers';
import { toJobId } from '../chain/job-id.js';
import type { Db } from '../storage/database.js';
import { MarketStore } from '../market/store.js';
import { recoverVoucherSigner } from '../wallet/voucher.js';
import type { Ledger } from './ledger.js';

const REASON = 'counted before Offshift checked vouchers against the buyer of their job (issue 16), and it fails that check now';

export function recheckLegacyVouchers(db: Db, ledger: Ledger): { kept: number; refused: number } {
  let kept = 0;
  let refused = 0;
  let batch = ledger.uncheckedVouchers();
  if (batch.length === 0) return { kept, refused };
  const buyerOfJob = new Map<string, string>();
  for (const r of new MarketStore(db).buyers()) buyerOfJob.set(toJobId(r.job_id), getAddress(r.buyer));
  const rebuild = new Map<string, { chainId: number; escrow: string; jobId: string; buyer: string; provider: string }>();
  while (batch.length > 0) {
    for (const v of batch) {
      const jobId = v.voucher.jobId.toLowerCase();
      const expected = buyerOfJob.get(jobId);
      let signer: string | null;
      try {
        signer = recoverVoucherSigner(v, v.chainId, v.escrow);
      } catch {
        signer = null;
      }
      const buyer = getAddress(v.voucher.buyer);
      if (signer !== buyer) ledger.uncount(v.id, 'forged', `${REASON}: its signature does not recover to the buyer it names`);
      else if (expected !== undefined && expected !== buyer) ledger.uncount(v.id, 'wrong-channel', `${REASON}: it names the buyer ${buyer}, not the job's buyer ${expected}`, { buyer: expected, jobId });
      else {
        ledger.markChecked(v.id);
        kept++;
        continue;
      }
      refused++;
      rebuild.set(`${v.chainId}|${v.escrow}|${jobId}`, { chainId: v.chainId, escrow: v.escrow, jobId, buyer: expected ?? buyer, provider: v.voucher.provider });
    }
    batch = ledger.uncheckedVouchers();
  }
  for (const j of rebuild.values()) ledger.rebuildJob({ chainId: j.chainId, escrow: j.escrow }, j.jobId, { buyer: j.buyer, provider: j.provider });
  return { kept, refused };
}
