/** The Wallet page once a wallet exists: address and balances, the payout address, then redeem and withdraw (unlocked) or unlock. */
import { useState } from 'react';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { client, message } from '../api/agent-call.js';
import { PayoutAddress } from './PayoutAddress.js';
import { WalletBalances } from './WalletBalances.js';
import { Banner } from './WalletBanner.js';
import { WalletHead } from './WalletHead.js';
import { WalletRedeem } from './WalletRedeem.js';
import { Unlock } from './WalletUnlock.js';
import { WithdrawCard, WithdrawDialog } from './WalletWithdraw.js';

/** Runs one wallet action: busy meanwhile, then its sentence as the notice (or its error), then a refresh. */
function useWalletRun(refresh: () => Promise<void>) {
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(what: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setNotice(await what());
      await refresh();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  return { notice, setNotice, error, busy, run };
}

export function WalletView({ status, refresh }: { status: WalletStatus; refresh: () => Promise<void> }) {
  const { notice, setNotice, error, busy, run } = useWalletRun(refresh);
  const [voucherText, setVoucherText] = useState('');
  const [withdrawing, setWithdrawing] = useState(false);

  return (
    <>
      <WalletHead status={status} onLock={() => void run(async () => (await client().call('wallet.lock'), 'Locked.'))} />

      {status.chainError ? <Banner tone="warn" text={status.chainError} /> : null}
      {error ? <Banner text={error} /> : null}
      {notice ? (
        <div className="banner banner-warn" role="status" data-testid="wallet-notice">
          <div className="banner-text">
            <span>{notice}</span>
          </div>
        </div>
      ) : null}

      <WalletBalances status={status} />

      <h3 className="section-title">Payout address</h3>
      <PayoutAddress ownAddress={status.address} />

      {!status.unlocked ? (
        <Unlock onUnlocked={() => void refresh()} />
      ) : (
        <>
          <WalletRedeem status={status} busy={busy} run={run} voucherText={voucherText} setVoucherText={setVoucherText} />
          <WithdrawCard status={status} onOpen={() => setWithdrawing(true)} />
          {withdrawing ? <WithdrawDialog status={status} onClose={() => setWithdrawing(false)} onSent={(text) => (setWithdrawing(false), setNotice(text), void refresh())} /> : null}
        </>
      )}
    </>
  );
}
