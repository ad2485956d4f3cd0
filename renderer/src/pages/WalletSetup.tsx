/** The Wallet page before there is a wallet: create or import one, and the recovery phrase shown once. */
import { useMemo, useState, type FormEvent } from 'react';
import { client, message } from '../api/agent-call.js';
import { Banner } from './WalletBanner.js';

export function NoWallet({ onCreated, onImported }: { onCreated: (mnemonic: string) => void; onImported: () => void }) {
  const [mode, setMode] = useState<'create' | 'import'>('create');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== again) return setError('The two passwords differ.');
    setBusy(true);
    setError(null);
    try {
      if (mode === 'create') {
        const created = await client().call('wallet.create', { password });
        onCreated(created.mnemonic);
      } else {
        const s = secret.trim();
        const isKey = /^(0x)?[0-9a-fA-F]{64}$/.test(s);
        await client().call('wallet.import', isKey ? { password, privateKey: s } : { password, mnemonic: s });
        onImported();
      }
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card money-form" onSubmit={(e) => void submit(e)} data-testid="wallet-setup">
      <div className="segmented">
        <button type="button" className={`button button-small${mode === 'create' ? ' active' : ''}`} onClick={() => setMode('create')}>
          Create a wallet
        </button>
        <button type="button" className={`button button-small${mode === 'import' ? ' active' : ''}`} onClick={() => setMode('import')}>
          Import a wallet
        </button>
      </div>
      <p className="muted">Your earnings are paid to this wallet. Its key stays on this computer, encrypted with the password below.</p>
      {mode === 'import' ? (
        <label>
          Recovery phrase or private key
          <textarea value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="off" spellCheck={false} data-testid="wallet-secret" />
        </label>
      ) : null}
      <label>
        Password (at least 8 characters)
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" data-testid="wallet-password" />
      </label>
      <label>
        The same password again
        <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" data-testid="wallet-password-again" />
      </label>
      {error ? <Banner text={error} /> : null}
      <div className="money-row">
        <button className="button button-primary" type="submit" disabled={busy || password.length < 8} data-testid="wallet-submit">
          {busy ? 'Working…' : mode === 'create' ? 'Create the wallet' : 'Import the wallet'}
        </button>
      </div>
    </form>
  );
}

/** The recovery phrase, once; the owner types one word back to show it was written down. */
export function ShowMnemonic({ mnemonic, onDone }: { mnemonic: string; onDone: () => void }) {
  const words = mnemonic.split(' ');
  const index = useMemo(() => Math.floor(Math.random() * words.length), [words.length]);
  const [answer, setAnswer] = useState('');
  const ok = answer.trim().toLowerCase() === words[index];
  return (
    <div className="page">
      <div className="card money-form" data-testid="wallet-mnemonic">
        <strong>Write down your recovery phrase</strong>
        <p className="muted">It is shown this once. Anyone with it controls your earnings; without it, a lost password cannot be recovered.</p>
        <div className="mnemonic" data-testid="mnemonic-words">
          {words.map((w, i) => (
            <span key={i}>
              {i + 1}. {w}
              {i < words.length - 1 ? '  ' : ''}
            </span>
          ))}
        </div>
        <label>
          Type word #{index + 1} to confirm
          <input value={answer} onChange={(e) => setAnswer(e.target.value)} autoComplete="off" data-testid="mnemonic-confirm" data-word-index={index} />
        </label>
        <button className="button button-primary" type="button" disabled={!ok} onClick={onDone} data-testid="mnemonic-done">
          I wrote it down
        </button>
      </div>
    </div>
  );
}
