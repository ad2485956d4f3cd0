/**
 * Wallet → Payout address: where this machine's earnings go (`wallet.settings`). This machine's
 * key still signs in and signs its reports; with a payout address set, every voucher must pay
 * that address and the escrow pays it whoever redeems, so the machine cannot spend what it earned.
 * An administrator may set it for the whole room: then it is shown locked.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import { LockNote } from '../components/LockNote.js';
import { client, message } from '../api/agent-call.js';

type Payout = CommandOutput<'wallet.settings'>['payout'];

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function PayoutAddress({ ownAddress }: { ownAddress: string | null }) {
  const [payout, setPayout] = useState<Payout | null>(null);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setPayout((await client().call('wallet.settings', {})).payout);
    } catch (e) {
      setError(message(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  async function save(address: string | null) {
    setBusy(true);
    setError(null);
    try {
      setPayout((await client().call('wallet.settings', { payoutAddress: address })).payout);
      setDraft('');
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!ADDRESS.test(text)) return setError(`A payout address is 0x and 40 hex digits (a team wallet, a hardware wallet, a multisig); "${text}" is not one.`);
    void save(text);
  }

  if (!payout) return error ? <p className="muted small" role="alert">{error}</p> : null;
  return (
    <div className="card money-form" data-testid="payout-address">
      <p>
        {payout.address === null ? (
          <>Earnings go to this machine's wallet{ownAddress ? <span className="mono"> {ownAddress}</span> : null}.</>
        ) : (
          <>
            Earnings go to <span className="mono" data-testid="payout-address-value">{payout.address}</span>. Every voucher must pay it and the escrow pays it whoever redeems: this machine's key signs in and signs its reports, but cannot spend what it earned.
          </>
        )}{' '}
        {payout.locked ? <LockNote /> : null}
      </p>
      {payout.problem ? <p className="muted small" role="alert">{payout.problem}</p> : null}
      {payout.locked ? null : (
        <form className="money-row" onSubmit={submit}>
          <input className="input mono" placeholder="0x… (a team wallet, a hardware wallet, a multisig)" value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Payout address" data-testid="payout-address-input" />
          <button type="submit" className="button" disabled={busy || draft.trim() === ''}>
            Pay earnings there
          </button>
          {payout.address !== null ? (
            <button type="button" className="button" disabled={busy} onClick={() => void save(null)} data-testid="payout-address-clear">
              Pay this machine's wallet
            </button>
          ) : null}
        </form>
      )}
      {error ? <p className="muted small" role="alert">{error}</p> : null}
    </div>
  );
}
