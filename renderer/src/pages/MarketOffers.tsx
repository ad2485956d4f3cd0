/** The Marketplace page's "Offers received": each offer the market sent, with the agent's decision and its reason. */
import { formatTokens } from '../../../runtime/ledger/schema.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { shortAddress } from '../lib/market.js';

export function Offers({ status }: { status: MarketStatus }) {
  const t = (units: string) => formatTokens(units, status.tokenDecimals, { maxFraction: 6, grouped: true });
  return (
    <div className="card" data-testid="market-offers">
      <h3>Offers received</h3>
      {status.offers.length === 0 ? (
        <p className="muted">No offer yet. Each offer the market sends shows here with your agent's decision and its reason.</p>
      ) : (
        <table className="market-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Job</th>
              <th>Buyer</th>
              <th className="num">GPUs</th>
              <th className="num">Price</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {status.offers.map((o) => (
              <tr key={o.offerId} data-testid="market-offer-row" data-accepted={o.accepted ? 'true' : 'false'}>
                <td className="muted">{new Date(o.at).toLocaleTimeString()}</td>
                <td className="mono">{o.jobId.slice(0, 12)}</td>
                <td className="mono" title={o.buyer}>
                  {shortAddress(o.buyer)}
                </td>
                <td className="num">{o.gpus}</td>
                <td className="num">
                  {t(o.pricePerHour)} <span className="muted small">{status.tokenSymbol}/h</span>
                </td>
                <td>
                  <span className={`pill ${o.accepted ? 'pill-accepted' : 'pill-declined'}`}>{o.accepted ? 'Accepted' : 'Declined'}</span>{' '}
                  <span className="muted small" data-testid="market-offer-detail">
                    {o.detail}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
