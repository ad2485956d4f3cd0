/** The Wallet page's Withdraw section, and its dialog: the network fee is reviewed before anything is sent. */
import { useState } from 'react';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import { formatTokens } from '../../../runtime/ledger/schema.js';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';
import { parseTokens, shortHash } from '../lib/money.js';
import { client, message } from '../api/agent-call.js';
import { Banner } from './WalletBanner.js';

type Quote = CommandOutput<'wallet.prepareWithdraw'>;

export function WithdrawCard({ status, onOpen }: { status: WalletStatus; onOpen: () => void }) {
  return (
    <>
      <h3 className="section-title">Withdraw</h3>
      <div className="card money-form">
        <p className="muted">Send tokens from this wallet to another address. The network fee is shown before anything is sent.</p>
        <div className="money-row">
          <button type="button" className="button" onClick={onOpen} disabled={status.tokenBalance === null || status.tokenBalance === '0'} data-testid="wallet-withdraw-open">
            Withdraw…
          </button>
        </div>
      </div>
    </>
  );
}

function WithdrawFee({ status, quote }: { status: WalletStatus; quote: Quote }) {
  return (
    <div className="fee-box" data-testid="withdraw-fee">
      <span>
        Send <strong>{formatTokens(quote.amount, status.tokenDecimals, { grouped: true })} {status.tokenSymbol}</strong> to <span className="mono">{quote.to}</span>
      </span>
      <span className="muted">
        Network fee: at most {formatTokens(quote.maxFee, 18, { maxFraction: 8, grouped: true })} ETH (gas {quote.gasLimit} × {formatTokens(quote.maxFeePerGas, 9, { maxFraction: 3, grouped: true })} gwei)
      </span>
    </div>
  );
}

export function WithdrawDialog({ status, onClose, onSent }: { status: WalletStatus; onClose: () => void; onSent: (text: string) => void }) {
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
          {quote ? <WithdrawFee status={status} quote={quote} /> : null}
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
