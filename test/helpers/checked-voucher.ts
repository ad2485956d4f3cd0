/**
 * A CheckedVoucher for tests that fill the ledger with made-up vouchers: the real pure check,
 * given the facts the I/O side would have read (the signer it recovers to, the escrow's paid
 * total and deposit). The signature itself is not looked at here; tests that need a real one
 * sign with ethers and go through takeVoucher.
 */
import { checkVoucher, type CheckedVoucher } from '../../runtime/market/voucher-check.js';
import type { SignedVoucher } from '../../runtime/wallet/schema.js';

export function counted(ctx: { chainId: number; escrow: string }, signed: SignedVoucher, facts: { paid?: bigint; deposit?: bigint; nowSec?: number } = {}): CheckedVoucher {
  const v = signed.voucher;
  const verdict = checkVoucher(signed, {
    channel: { ...ctx, buyer: v.buyer, provider: v.provider, jobId: v.jobId },
    payee: v.payee ?? null,
    recoveredSigner: v.buyer,
    nowSec: facts.nowSec ?? 0,
    chain: { deposit: facts.deposit ?? 2n ** 255n, paid: facts.paid ?? 0n },
    owedElsewhere: 0n,
  });
  if (!verdict.counted) throw new Error(`test voucher refused: ${verdict.refused.why}`);
  return verdict.counted;
}
