/** The Marketplace page's "Running now": the marketplace jobs running, with their price, run time and what they have paid of what is due. */
import { formatTokens } from '../../../runtime/ledger/schema.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { formatSeconds, paidFraction, runSeconds, shortAddress } from '../lib/market.js';

export function RunningJobs({ status, now }: { status: MarketStatus; now: number }) {
  const t = (units: string) => formatTokens(units, status.tokenDecimals, { maxFraction: 6, grouped: true });
  return (
    <div className="card" data-testid="market-jobs">
      <h3>Running now</h3>
      {status.jobs.length === 0 ? (
        <p className="muted">No marketplace job is running.{status.state === 'connected' ? ' Jobs start here as offers are accepted.' : ''}</p>
      ) : (
        <table className="market-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Buyer</th>
              <th className="num">Price</th>
              <th className="num">Run</th>
              <th>Paid up to / due</th>
            </tr>
          </thead>
          <tbody>
            {status.jobs.map((j) => {
              const fraction = paidFraction(j.paidUpTo, j.amountDue);
              return (
                <tr key={j.jobId} data-testid="market-job-row" data-job-id={j.jobId}>
                  <td>
                    <a className="mono" href={`#/jobs`} title={`Local job ${j.localJobId}`}>
                      {j.jobId.slice(0, 12)}
                    </a>
                    <div className="muted small">{j.state}</div>
                  </td>
                  <td className="mono" title={j.buyer}>
                    {shortAddress(j.buyer)}
                  </td>
                  <td className="num">
                    {t(j.pricePerHour)} <span className="muted small">{status.tokenSymbol}/h</span>
                  </td>
                  <td className="num">{formatSeconds(runSeconds(j, now))}</td>
                  <td>
                    <div className="paid-line">
                      <span data-testid="market-job-paid">{t(j.paidUpTo)}</span>
                      <span className="muted"> / {t(j.amountDue)} {status.tokenSymbol}</span>
                    </div>
                    <div className="meter paid-meter" role="progressbar" aria-label="Paid of what is due" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)}>
                      <div className={`meter-fill${fraction < 1 ? ' meter-behind' : ''}`} style={{ width: `${Math.round(fraction * 100)}%` }} />
                    </div>
                    {j.voucherProblem ? <div className="market-problem small">Last voucher refused: {j.voucherProblem}</div> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
