/** The head of the Wallet page: the address as a QR code and in text, with Copy address and Lock. */
import QRCode from 'qrcode';
import { useMemo, useState } from 'react';
import type { WalletStatus } from '../../../runtime/wallet/schema.js';

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

export function WalletHead({ status, onLock }: { status: WalletStatus; onLock: () => void }) {
  const [copied, setCopied] = useState(false);
  const address = status.address ?? '';
  return (
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
            <button type="button" className="button button-small" onClick={onLock}>
              Lock
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
}
