/**
 * The Earnings page: today, 7 days, 30 days and all time; pending / redeemable / redeemed /
 * withdrawn; a chart by day; earnings per GPU; the job table; CSV export. Days are in this
 * computer's time zone. The state and API calls are in useEarnings.ts, the sections below the
 * totals in EarningsSections.tsx.
 */
import { formatTokens } from '../../../runtime/ledger/schema.js';
import { Stat } from '../components/Stat.js';
import { EarningsByGpu, EarningsChart, EarningsJobs } from './EarningsSections.js';
import { timeZone, useEarnings, type Summary } from './useEarnings.js';
import './money.css';

export function EarningsPage() {
  const { summary, points, gpus, jobs, error, exporting, exportCsv } = useEarnings();

  if (!summary) {
    return <div className="page">{error ? <LedgerError text={error} /> : <div className="card skeleton">Reading the ledger…</div>}</div>;
  }
  const t = (v: string) => formatTokens(v, summary.tokenDecimals, { maxFraction: 4, grouped: true });

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
      {error ? <LedgerError text={error} /> : null}
      <EarningsTotals summary={summary} t={t} />
      <EarningsChart points={points} t={t} symbol={summary.tokenSymbol} />
      <EarningsByGpu gpus={gpus} t={t} symbol={summary.tokenSymbol} />
      <EarningsJobs jobs={jobs} t={t} symbol={summary.tokenSymbol} />
    </div>
  );
}

/** The ledger could not be read (a plain red banner, no icon). */
function LedgerError({ text }: { text: string }) {
  return (
    <div className="banner banner-fail" role="alert">
      <div className="banner-text">
        <span>{text}</span>
      </div>
    </div>
  );
}

/** The totals by period, then by status. */
function EarningsTotals({ summary, t }: { summary: Summary; t: (v: string) => string }) {
  return (
    <>
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
    </>
  );
}
