/** The Wallet page's unlock form, shown instead of Redeem and Withdraw while the wallet is locked. */
import { useState } from 'react';
import { client, message } from '../api/agent-call.js';
import { Banner } from './WalletBanner.js';

export function Unlock({ onUnlocked }: { onUnlocked: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card money-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        client()
          .call('wallet.unlock', { password })
          .then(
            () => (setPassword(''), setError(null), onUnlocked()),
            (err: unknown) => setError(message(err)),
          )
          .finally(() => setBusy(false));
      }}
    >
      <strong>Unlock the wallet to redeem or withdraw</strong>
      <label>
        Password
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" data-testid="wallet-unlock-password" />
      </label>
      {error ? <Banner text={error} /> : null}
      <div className="money-row">
        <button className="button button-primary" type="submit" disabled={busy || password === ''} data-testid="wallet-unlock">
          Unlock
        </button>
      </div>
    </form>
  );
}
