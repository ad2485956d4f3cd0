/**
 * The Wallet page: create or import a wallet (the recovery phrase is shown once and confirmed),
 * unlock it, see the address (copy, QR code) and balances, redeem vouchers, and withdraw with the
 * network fee shown before anything is sent.
 */
import QRCode from 'qrcode';
import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import { Stat } from '../components/Stat.js';
import { PayoutAddress } from './PayoutAddress.js';
import { useLiveRefresh } from '../components/useLiveRefresh.js';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { parseTokens, shortHash } from '../lib/money.js';
import { startSession } from '../store/session.js';
import './money.css';
import { formatTokens } from '../../../runtime/ledger/schema.js';

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

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

function Banner({ text, tone = 'fail' }: { text: string; tone?: 'fail' | 'warn' }) {
  return (
    <div className={`banner banner-${tone}`} role="alert">
      <div className="banner-text">
        <span>{text}</span>
      </div>
    </div>
  );
}

function NoWallet({ onCreated, onImported }: { onCreated: (mnemonic: string) => void; onImported: () => void }) {
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
function ShowMnemonic({ mnemonic, onDone }: { mnemonic: string; onDone: () => void }) {
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

function QrCode({ text }: { text: string }) {
  const qr = useMemo(() => QRCode.create(text, { errorCorrectionLevel: 'M' }), [text]);
  const size = qr.modules.size;
  const cells: string[] = [];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (qr.modules.get(x, y)) cells.push(`M${x} ${y}h1v1h-1z`);
  return (
    <svg className="wallet-qr" viewBox={`-2 -2 ${size + 4} ${size + 4}`} role="img" aria-label={`QR code of ${text}`} data-testid="wallet-qr">
      <path d={cells.join('')} fill="#000" />
    </svg>
  );
}

function WalletView({ status, refresh }: { status: WalletStatus; refresh: () => Promise<void> }) {
  const [copied, setCopied] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [voucherText, setVoucherText] = useState('');
  const [withdrawing, setWithdrawing] = useState(false);
  const t = (v: string | null) => (v === null ? '—' : formatTokens(v, status.tokenDecimals, { maxFraction: 6, grouped: true }));
  const address = status.address ?? '';

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

  const redeemResults = (results: { outcome: string; paid: string; txHash: string | null; error: string | null }[]) => {
    if (results.length === 0) return 'Nothing to redeem.';
    return results
      .map((r) => (r.outcome === 'ok' ? `Redeemed ${t(r.paid)} ${status.tokenSymbol} (${shortHash(r.txHash ?? '')})` : `${r.outcome}: ${r.error ?? ''}`))
      .join(' · ');
  };

  return (
    <>
      <div className="card wallet-head">
        {address ? <QrCode text={address} /> : null}
        <div style={{ display: 'grid', gap: 8 }}>
          <span className="muted">Your wallet address{status.network ? ` on ${status.network.name} (chain ${status.network.chainId})` : ''}</span>
          <span className="wallet-address" data-testid="wallet-address">
            {address}
          </span>
          <div className="money-row">
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                void navigator.clipboard?.writeText(address).then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 1500);
                });
              }}
              data-testid="wallet-copy"
            >
              {copied ? 'Copied' : 'Copy address'}
            </button>
            {status.unlocked ? (
              <button type="button" className="button button-small" onClick={() => void run(async () => (await client().call('wallet.lock'), 'Locked.'))}>
                Lock
              </button>
            ) : null}
          </div>
        </div>
      </div>

      {status.chainError ? <Banner tone="warn" text={status.chainError} /> : null}
      {error ? <Banner text={error} /> : null}
      {notice ? (
        <div className="banner banner-warn" role="status" data-testid="wallet-notice">
          <div className="banner-text">
            <span>{notice}</span>
          </div>
        </div>
      ) : null}

      <div className="money-grid">
        <Stat label="Tokens" value={t(status.tokenBalance)} unit={status.tokenSymbol} testId="wallet-token-balance" />
        <Stat label="Gas (native)" value={status.nativeBalance === null ? '—' : formatTokens(status.nativeBalance, 18, { maxFraction: 6, grouped: true })} unit="ETH" />
        <Stat label="Redeemable" value={t(status.redeemable)} unit={status.tokenSymbol} testId="wallet-redeemable" />
        <Stat label="Redeemed" value={t(status.redeemed)} unit={status.tokenSymbol} testId="wallet-redeemed" />
        <Stat label="Withdrawn" value={t(status.withdrawn)} unit={status.tokenSymbol} />
      </div>

      <h3 className="section-title">Payout address</h3>
      <PayoutAddress ownAddress={status.address} />

      {!status.unlocked ? (
        <Unlock onUnlocked={() => void refresh()} />
      ) : (
        <>
          <h3 className="section-title">Redeem</h3>
          <div className="card money-form">
            <div className="money-row">
              <button type="button" className="button button-primary" disabled={busy || status.redeemable === '0'} onClick={() => void run(async () => redeemResults((await client().call('wallet.redeem', {})).results))} data-testid="wallet-redeem-all">
                Redeem everything redeemable
              </button>
            </div>
            <label>
              Or paste a voucher file
              <textarea value={voucherText} onChange={(e) => setVoucherText(e.target.value)} spellCheck={false} placeholder='{ "voucher": { … }, "signature": "0x…" }' data-testid="wallet-voucher" />
            </label>
            <div className="money-row">
              <button
                type="button"
                className="button"
                disabled={busy || voucherText.trim() === ''}
                data-testid="wallet-redeem-voucher"
                onClick={() =>
                  void run(async () => {
                    let voucher: unknown;
                    try {
                      voucher = JSON.parse(voucherText);
                    } catch {
                      throw new Error('That is not JSON: paste the whole voucher file.');
                    }
                    const { results } = await client().call('wallet.redeem', { voucher: voucher as never });
                    setVoucherText('');
                    return redeemResults(results);
                  })
                }
              >
                Redeem this voucher
              </button>
            </div>
          </div>

          <h3 className="section-title">Withdraw</h3>
          <div className="card money-form">
            <p className="muted">Send tokens from this wallet to another address. The network fee is shown before anything is sent.</p>
            <div className="money-row">
              <button type="button" className="button" onClick={() => setWithdrawing(true)} disabled={status.tokenBalance === null || status.tokenBalance === '0'} data-testid="wallet-withdraw-open">
                Withdraw…
              </button>
            </div>
          </div>
          {withdrawing ? <WithdrawDialog status={status} onClose={() => setWithdrawing(false)} onSent={(text) => (setWithdrawing(false), setNotice(text), void refresh())} /> : null}
        </>
      )}
    </>
  );
}


function Unlock({ onUnlocked }: { onUnlocked: () => void }) {
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

type Quote = CommandOutput<'wallet.prepareWithdraw'>;

function WithdrawDialog({ status, onClose, onSent }: { status: WalletStatus; onClose: () => void; onSent: (text: string) => void }) {
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [quote, setQuote] = useState<Quote | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const units = parseTokens(amount, status.tokenDecimals);

  async function prepare() {
    if (units === null || units === '0') return setError(`Enter an amount of ${status.tokenSymbol}, such as 12.5.`);
    setBusy(true);
    setError(null);
    try {
      setQuote(await client().call('wallet.prepareWithdraw', { to: to.trim(), amount: units }));
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  async function send() {
    if (!quote) return;
    setBusy(true);
    setError(null);
    try {
      const sent = await client().call('wallet.withdraw', { quoteId: quote.quoteId });
      onSent(`Sent ${formatTokens(sent.amount, status.tokenDecimals, { grouped: true })} ${status.tokenSymbol} to ${sent.to} (${shortHash(sent.txHash)}).`);
    } catch (e) {
      setError(message(e));
      setQuote(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="dialog-backdrop" role="dialog" aria-modal="true" aria-label="Withdraw">
      <div className="dialog">
        <h2>Withdraw {status.tokenSymbol}</h2>
        <div className="money-form">
          <label>
            To address
            <input value={to} onChange={(e) => (setTo(e.target.value), setQuote(null))} spellCheck={false} placeholder="0x…" data-testid="withdraw-to" disabled={busy} />
          </label>
          <label>
            Amount ({status.tokenSymbol}; you hold {formatTokens(status.tokenBalance ?? '0', status.tokenDecimals, { grouped: true })})
            <input value={amount} onChange={(e) => (setAmount(e.target.value), setQuote(null))} inputMode="decimal" data-testid="withdraw-amount" disabled={busy} />
          </label>
          {quote ? (
            <div className="fee-box" data-testid="withdraw-fee">
              <span>
                Send <strong>{formatTokens(quote.amount, status.tokenDecimals, { grouped: true })} {status.tokenSymbol}</strong> to <span className="mono">{quote.to}</span>
              </span>
              <span className="muted">
                Network fee: at most {formatTokens(quote.maxFee, 18, { maxFraction: 8, grouped: true })} ETH (gas {quote.gasLimit} × {formatTokens(quote.maxFeePerGas, 9, { maxFraction: 3, grouped: true })} gwei)
              </span>
            </div>
          ) : null}
          {error ? <Banner text={error} /> : null}
          <div className="money-row">
            {quote ? (
              <button type="button" className="button button-primary" onClick={() => void send()} disabled={busy} data-testid="withdraw-confirm">
                {busy ? 'Sending…' : 'Confirm and send'}
              </button>
            ) : (
              <button type="button" className="button button-primary" onClick={() => void prepare()} disabled={busy || to.trim() === '' || amount.trim() === ''} data-testid="withdraw-prepare">
                {busy ? 'Checking…' : 'Review the fee'}
              </button>
            )}
            <button type="button" className="button" onClick={onClose} disabled={busy}>
              Cancel
            </button>
          </div>
        </div>
      </div>
    </div>
  );
}
