/** The Wallet page's Redeem section: everything redeemable at once, or one pasted voucher file. */
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { shortHash } from '../lib/money.js';
import { client } from '../api/agent-call.js';
import { tokenText } from './WalletBalances.js';

type RedeemResult = { outcome: string; paid: string; txHash: string | null; error: string | null };

/** What a redeem did, in one line: each voucher's amount and transaction, or its outcome and error. */
function redeemSummary(status: WalletStatus, results: RedeemResult[]): string {
  if (results.length === 0) return 'Nothing to redeem.';
  return results
    .map((r) => (r.outcome === 'ok' ? `Redeemed ${tokenText(status, r.paid)} ${status.tokenSymbol} (${shortHash(r.txHash ?? '')})` : `${r.outcome}: ${r.error ?? ''}`))
    .join(' · ');
}

export function WalletRedeem({
  status,
  busy,
  run,
  voucherText,
  setVoucherText,
}: {
  status: WalletStatus;
  busy: boolean;
  run: (what: () => Promise<string>) => Promise<void>;
  voucherText: string;
  setVoucherText: (text: string) => void;
}) {
  const redeemVoucher = async () => {
    let voucher: unknown;
    try {
      voucher = JSON.parse(voucherText);
    } catch {
      throw new Error('That is not JSON: paste the whole voucher file.');
    }
    const { results } = await client().call('wallet.redeem', { voucher: voucher as never });
    setVoucherText('');
    return redeemSummary(status, results);
  };

  return (
    <>
      <h3 className="section-title">Redeem</h3>
      <div className="card money-form">
        <div className="money-row">
          <button type="button" className="button button-primary" disabled={busy || status.redeemable === '0'} onClick={() => void run(async () => redeemSummary(status, (await client().call('wallet.redeem', {})).results))} data-testid="wallet-redeem-all">
            Redeem everything redeemable
          </button>
        </div>
        <label>
          Or paste a voucher file
          <textarea value={voucherText} onChange={(e) => setVoucherText(e.target.value)} spellCheck={false} placeholder='{ "voucher": { … }, "signature": "0x…" }' data-testid="wallet-voucher" />
        </label>
        <div className="money-row">
          <button type="button" className="button" disabled={busy || voucherText.trim() === ''} data-testid="wallet-redeem-voucher" onClick={() => void run(redeemVoucher)}>
            Redeem this voucher
          </button>
        </div>
      </div>
    </>
  );
}
