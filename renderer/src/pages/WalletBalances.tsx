/** The Wallet page's balances: tokens, gas, redeemable, redeemed and withdrawn. */
import { formatTokens } from '../../../runtime/ledger/schema.js';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { Stat } from '../components/Stat.js';

/** A token amount of this wallet's token, grouped, at most 6 decimals; `—` when unknown. */
export function tokenText(status: WalletStatus, v: string | null): string {
  return v === null ? '—' : formatTokens(v, status.tokenDecimals, { maxFraction: 6, grouped: true });
}

export function WalletBalances({ status }: { status: WalletStatus }) {
  const t = (v: string | null) => tokenText(status, v);
  return (
    <div className="money-grid">
      <Stat label="Tokens" value={t(status.tokenBalance)} unit={status.tokenSymbol} testId="wallet-token-balance" />
      <Stat label="Gas (native)" value={status.nativeBalance === null ? '—' : formatTokens(status.nativeBalance, 18, { maxFraction: 6, grouped: true })} unit="ETH" />
      <Stat label="Redeemable" value={t(status.redeemable)} unit={status.tokenSymbol} testId="wallet-redeemable" />
      <Stat label="Redeemed" value={t(status.redeemed)} unit={status.tokenSymbol} testId="wallet-redeemed" />
      <Stat label="Withdrawn" value={t(status.withdrawn)} unit={status.tokenSymbol} />
    </div>
  );
}
