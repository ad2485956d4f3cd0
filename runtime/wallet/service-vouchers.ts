/** Vouchers into the wallet: one checked and counted (`wallet.addVoucher`), stored ones redeemed on chain one after the other, and the escrow's payments read back (reconciliation). */
import { getAddress } from 'ethers';
import { AppError } from '../errors.js';
import type { StoredVoucher } from '../ledger/ledger.js';
import { escrowReader, takeVoucher } from '../market/voucher-intake.js';
import { chainError } from './errors.js';
import { ctxOf } from './redemptions.js';
import type { RedeemResult } from './schema.js';
import type { WalletDeps } from './service-deps.js';
import { parseVoucher, recoverVoucherSigner } from './voucher.js';

export async function addVoucher(d: WalletDeps, input: unknown): Promise<StoredVoucher> {
  const signed = parseVoucher(input);
  const net = d.network();
  const address = d.address();
  if (!address) throw new AppError('no-wallet', 'Create or import a wallet before adding vouchers.');
  if (getAddress(signed.voucher.provider) !== address) {
    throw new AppError('voucher-not-ours', `This voucher pays ${getAddress(signed.voucher.provider)}, not this wallet (${address}).`);
  }
  const signer = recoverVoucherSigner(signed, net.chainId, net.escrow);
  if (signer !== getAddress(signed.voucher.buyer)) {
    throw new AppError('voucher-invalid', `The voucher's signature is not the buyer's (it recovers to ${signer}, not ${getAddress(signed.voucher.buyer)}): it was altered, or it is for another escrow or chain (this one is ${net.escrow} on chain ${net.chainId}).`);
  }
  const { provider } = await d.connect();
  try {
    const block = await provider.getBlock('latest');
    const v = signed.voucher;
    const result = await takeVoucher({
      ledger: d.ledger(),
      reader: escrowReader(provider, net.escrow),
      nowMs: Math.max(Date.now(), (block?.timestamp ?? 0) * 1000),
      channel: { chainId: net.chainId, escrow: net.escrow, buyer: v.buyer, provider: address, jobId: v.jobId },
      payee: d.payoutAddress(),
      signed,
    });
    if (result.stored) {
      d.log().info('voucher stored', { voucherId: result.stored.id, jobId: v.jobId, cumulativeAmount: v.cumulativeAmount });
      return result.stored;
    }
    const refusal = result.refused!;
    // Counted before and paid since: redeeming it again finishes or explains (never pays twice).
    const counted = refusal.kind === 'worthless' ? d.ledger().findVoucher(signed) : undefined;
    if (counted) return counted;
    const [code, next] =
      refusal.kind === 'worthless'
        ? ['already-redeemed', 'It was already redeemed: it pays nothing more.']
        : refusal.kind === 'expired'
          ? ['voucher-expired', 'Ask the buyer for a new one.']
          : refusal.kind === 'chain-unreadable'
            ? ['rpc-unreachable', 'Nothing was counted; try again when the chain answers.']
            : ['voucher-refused', 'Nothing was counted (it is kept as refused evidence); ask the buyer for a valid voucher.'];
    throw new AppError(code, `This voucher was not counted: ${refusal.why}. ${next}`);
  } finally {
    provider.destroy();
  }
}

/** Redeems the vouchers `ids` (all redeemable ones, the best per job, when omitted); with `throwOnError` the first failure throws. */
export async function redeemStored(d: WalletDeps, ids: number[] | undefined, throwOnError: boolean): Promise<RedeemResult[]> {
  const signer = d.requireSigner();
  return d.serial(async () => {
    const { net, provider } = await d.connect();
    try {
      const ledger = d.ledger();
      const vouchers = ids
        ? ids.map((id) => {
            const v = ledger.voucher(id);
            if (!v) throw new AppError('not-found', `There is no stored voucher ${id}.`);
            return v;
          })
        : bestPerJob(ledger.redeemableVouchers(ctxOf(net)));
      const results: RedeemResult[] = [];
      for (const v of vouchers) {
        try {
          results.push(await d.redemptions().redeemOne(v, net, provider, signer.connect(provider)));
        } catch (error) {
          const e = chainError(error, net.rpcUrl, 'redeem the voucher');
          if (throwOnError) throw e;
          results.push({ voucherId: v.id, jobId: v.voucher.jobId, txHash: null, paid: '0', outcome: e.code === 'already-redeemed' ? 'already-redeemed' : 'failed', error: e.message });
        }
      }
      if (results.some((r) => r.outcome === 'ok')) d.onUpdate()?.('redeemed', signer.address);
      return results;
    } finally {
      provider.destroy();
    }
  });
}

/**
 * Reads the escrow's `Redeemed` events paying this wallet since the last synced block (or
 * from the escrow's first block when `full`), and records any the ledger lacks.
 */
export async function reconcileEscrow(d: WalletDeps, options: { full?: boolean }): Promise<{ added: number; toBlock: number }> {
  const address = d.address();
  if (!address) return { added: 0, toBlock: 0 };
  const { net, provider } = await d.connect();
  try {
    const result = await d.redemptions().reconcileWith(net, provider, address, options.full);
    if (result.added > 0) d.onUpdate()?.('reconciled', address);
    return result;
  } catch (error) {
    throw chainError(error, net.rpcUrl, 'read the escrow payments');
  } finally {
    provider.destroy();
  }
}

/** Of several redeemable vouchers for one job, only the highest needs sending. */
function bestPerJob(vouchers: StoredVoucher[]): StoredVoucher[] {
  const best = new Map<string, StoredVoucher>();
  for (const v of vouchers) {
    const key = `${v.voucher.buyer}/${v.voucher.jobId}`;
    const current = best.get(key);
    if (!current || BigInt(v.voucher.cumulativeAmount) > BigInt(current.voucher.cumulativeAmount)) best.set(key, v);
  }
  return [...best.values()];
}
