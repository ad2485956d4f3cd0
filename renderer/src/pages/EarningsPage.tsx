/**
 * The Earnings page: today, 7 days, 30 days and all time; pending / redeemable / redeemed /
 * withdrawn; a chart by day; earnings per GPU; the job table; CSV export. Days are in this
 * computer's time zone.
 */
import { useCallback, useState } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import { Stat } from '../components/Stat.js';
import { useLiveRefresh } from '../components/useLiveRefresh.js';
import { formatTokens, type EarningRow, type SeriesPoint } from '../../../runtime/ledger/schema.js';
import { formatDuration, shortHash } from '../lib/money.js';
import { startSession } from '../store/session.js';
import './money.css';

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));
const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

type Summary = CommandOutput<'earnings.summary'>;

export function EarningsPage() {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [points, setPoints] = useState<SeriesPoint[]>([]);
  const [gpus, setGpus] = useState<{ gpuKey: string; earned: string; jobs: number }[]>([]);
  const [jobs, setJobs] = useState<EarningRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const c = client();
      const [s, series, byGpu, table] = await Promise.all([
        c.call('earnings.summary', { timeZone: timeZone() }),
        c.call('earnings.series', { unit: 'day', days: 30, timeZone: timeZone() }),
        c.call('earnings.byGpu', {}),
        c.call('earnings.jobs', { limit: 100, offset: 0 }),
      ]);
      setSummary(s);
      setPoints(series.points);
      setGpus(byGpu.gpus);
      setJobs(table.jobs);
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, []);

  useLiveRefresh(refresh, 'wallet.update');

  async function exportCsv() {
    setExporting(true);
    try {
      const r = await client().call('earnings.exportCsv', { timeZone: timeZone() });
      const url = URL.createObjectURL(new Blob([r.csv], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = r.filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(message(e));
    } finally {
      setExporting(false);
    }
  }

  if (!summary) {
    return <div className="page">{error ? <div className="banner banner-fail" role="alert"><div className="banner-text"><span>{error}</span></div></div> : <div className="card skeleton">Reading the ledger…</div>}</div>;
  }
  const t = (v: string) => formatTokens(v, summary.tokenDecimals, { maxFraction: 4, grouped: true });
  const max = points.reduce((m, p) => (BigInt(p.earned) > m ? BigInt(p.earned) : m), 0n);
  const height = (v: string) => (max === 0n ? 0 : Number((BigInt(v) * 1000n) / max) / 10);

  return (
    <div className="page">
      <div className="toolbar">
        <p className="muted">
          {summary.totals.jobs} job{summary.totals.jobs === 1 ? '' : 's'} with earnings · days in {timeZone()}
        </p>
        <button type="button" className="button button-primary" onClick={() => void exportCsv()} disabled={exporting} data-testid="earnings-export">
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {error ? (
        <div className="banner banner-fail" role="alert">
          <div className="banner-text">
            <span>{error}</span>
          </div>
        </div>
      ) : null}
      <div className="money-grid">
        <Stat label="Today" value={t(summary.today)} unit={summary.tokenSymbol} testId="earnings-today" />
        <Stat label="7 days" value={t(summary.last7Days)} unit={summary.tokenSymbol} />
        <Stat label="30 days" value={t(summary.last30Days)} unit={summary.tokenSymbol} />
        <Stat label="All time" value={t(summary.allTime)} unit={summary.tokenSymbol} testId="earnings-all-time" />
      </div>
      <div className="money-grid" style={{ marginTop: 12 }}>
        <Stat label="Pending" value={t(summary.totals.pending)} unit={summary.tokenSymbol} />
        <Stat label="Redeemable" value={t(summary.totals.redeemable)} unit={summary.tokenSymbol} />
        <Stat label="Redeemed" value={t(summary.totals.redeemed)} unit={summary.tokenSymbol} testId="earnings-redeemed" />
        <Stat label="Withdrawn" value={t(summary.totals.withdrawn)} unit={summary.tokenSymbol} />
      </div>

      <h3 className="section-title">Last 30 days</h3>
      <div className="card">
        <div className="bars" role="img" aria-label="Earnings by day, last 30 days" data-testid="earnings-chart">
          {points.map((p) => (
            <div key={p.period} className="bar" style={{ height: `${height(p.earned)}%` }} title={`${p.period}: ${t(p.earned)} ${summary.tokenSymbol}, ${p.jobs} job(s)`} />
          ))}
        </div>
        <div className="bars-axis">
          <span>{points[0]?.period}</span>
          <span>{points[points.length - 1]?.period}</span>
        </div>
      </div>

      <h3 className="section-title">By GPU</h3>
      <div className="card">
        <table className="money-table">
          <thead>
            <tr>
              <th>GPU</th>
              <th className="num">Jobs</th>
              <th className="num">Earned ({summary.tokenSymbol})</th>
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

      <h3 className="section-title">Jobs</h3>
      <div className="card">
        <table className="money-table" data-testid="earnings-jobs">
          <thead>
            <tr>
              <th>When</th>
              <th>Job</th>
              <th>GPUs</th>
              <th>Duration</th>
              <th className="num">Amount ({summary.tokenSymbol})</th>
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
              jobs.map((j) => (
                <tr key={j.marketJobId} data-testid="earnings-job-row">
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
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
