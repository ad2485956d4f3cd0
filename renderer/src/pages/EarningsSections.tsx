/** The Earnings page's sections below the totals: the chart of the last 30 days, earnings per GPU, and the job table. */
import type { EarningRow, SeriesPoint } from '../../../runtime/ledger/schema.js';
import { formatDuration, shortHash } from '../lib/money.js';
import type { GpuEarnings } from './useEarnings.js';

/** Formats an amount in the token's smallest unit for these tables. */
type Tokens = (v: string) => string;

export function EarningsChart({ points, t, symbol }: { points: SeriesPoint[]; t: Tokens; symbol: string }) {
  const max = points.reduce((m, p) => (BigInt(p.earned) > m ? BigInt(p.earned) : m), 0n);
  const height = (v: string) => (max === 0n ? 0 : Number((BigInt(v) * 1000n) / max) / 10);
  return (
    <>
      <h3 className="section-title">Last 30 days</h3>
      <div className="card">
        <div className="bars" role="img" aria-label="Earnings by day, last 30 days" data-testid="earnings-chart">
          {points.map((p) => (
            <div key={p.period} className="bar" style={{ height: `${height(p.earned)}%` }} title={`${p.period}: ${t(p.earned)} ${symbol}, ${p.jobs} job(s)`} />
          ))}
        </div>
        <div className="bars-axis">
          <span>{points[0]?.period}</span>
          <span>{points[points.length - 1]?.period}</span>
        </div>
      </div>
    </>
  );
}

export function EarningsByGpu({ gpus, t, symbol }: { gpus: GpuEarnings[]; t: Tokens; symbol: string }) {
  return (
    <>
      <h3 className="section-title">By GPU</h3>
      <div className="card">
        <table className="money-table">
          <thead>
            <tr>
              <th>GPU</th>
              <th className="num">Jobs</th>
              <th className="num">Earned ({symbol})</th>
            </tr>
          </thead>
          <tbody>
            {gpus.length === 0 ? (
              <tr>
                <td colSpan={3} className="muted">No earnings yet.</td>
              </tr>
            ) : (
              gpus.map((g) => (
                <tr key={g.gpuKey}>
                  <td className="mono">{g.gpuKey === 'unassigned' ? 'No GPU (CPU-only jobs)' : g.gpuKey}</td>
                  <td className="num">{g.jobs}</td>
                  <td className="num">{t(g.earned)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function EarningsJobs({ jobs, t, symbol }: { jobs: EarningRow[]; t: Tokens; symbol: string }) {
  return (
    <>
      <h3 className="section-title">Jobs</h3>
      <div className="card">
        <table className="money-table" data-testid="earnings-jobs">
          <thead>
            <tr>
              <th>When</th>
              <th>Job</th>
              <th>GPUs</th>
              <th>Duration</th>
              <th className="num">Amount ({symbol})</th>
              <th>Status</th>
              <th>Redeem transaction</th>
              <th>Paid to</th>
            </tr>
          </thead>
          <tbody>
            {jobs.length === 0 ? (
              <tr>
                <td colSpan={8} className="muted">No jobs paid yet.</td>
              </tr>
            ) : (
              jobs.map((j) => <EarningsJobRow key={j.marketJobId} job={j} t={t} />)
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

function EarningsJobRow({ job: j, t }: { job: EarningRow; t: Tokens }) {
  return (
    <tr data-testid="earnings-job-row">
      <td>{new Date(j.at).toLocaleString()}</td>
      <td className="mono" title={j.marketJobId}>{shortHash(j.marketJobId)}</td>
      <td className="mono">{j.gpus.join(', ') || '—'}</td>
      <td>{formatDuration(j.durationMs)}</td>
      <td className="num">{t(j.earned)}</td>
      <td>
        <span className={`pill pill-${j.status}`}>{j.status}</span>
      </td>
      <td className="mono" title={j.redeemTx ?? ''}>{j.redeemTx ? shortHash(j.redeemTx) : '—'}</td>
      <td className="mono" title={j.paidTo ?? "This machine's wallet"} data-testid="earnings-paid-to">{j.paidTo ? shortHash(j.paidTo) : 'this wallet'}</td>
    </tr>
  );
}
