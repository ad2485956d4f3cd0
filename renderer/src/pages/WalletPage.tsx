/**
 * The Wallet page: create or import a wallet (the recovery phrase is shown once and confirmed),
 * unlock it, see the address (copy, QR code) and balances, redeem vouchers, and withdraw with the
 * network fee shown before anything is sent.
 */
import { useCallback, useState } from 'react';
import { useLiveRefresh } from '../components/useLiveRefresh.js';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { client, message } from '../api/agent-call.js';
import { Banner } from './WalletBanner.js';
import { NoWallet, ShowMnemonic } from './WalletSetup.js';
import { WalletView } from './WalletView.js';
import './money.css';

export function WalletPage() {
  const [status, setStatus] = useState<WalletStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mnemonic, setMnemonic] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setStatus(await client().call('wallet.status'));
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, []);

  useLiveRefresh(refresh, 'wallet.update');

  if (mnemonic) return <ShowMnemonic mnemonic={mnemonic} onDone={() => setMnemonic(null)} />;

  return (
    <div className="page">
      {error ? <Banner text={error} /> : null}
      {status?.identityNote ? <Banner tone="warn" text={status.identityNote} /> : null}
      {!status ? (
        <div className="card skeleton" aria-busy="true">Reading the wallet…</div>
      ) : !status.exists ? (
        <NoWallet onCreated={(m) => setMnemonic(m)} onImported={() => void refresh()} />
      ) : (
        <WalletView status={status} refresh={refresh} />
      )}
    </div>
  );
}
