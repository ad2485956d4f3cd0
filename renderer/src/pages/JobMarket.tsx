/**
 * What the Jobs page shows of a marketplace job: its buyer, price and what it has earned
 * (market.status while it runs, earnings.jobs once it has ended), in the list's Earnings column
 * and in the job view.
 */
import { useEffect, useState } from 'react';
import { formatTokens, type EarningRow } from '../../../runtime/ledger/schema.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import type { MarketJobRecord } from '../../../runtime/market/schema.js';
import { shortAddress } from '../lib/market.js';
import { useDashboard } from '../store/dashboard-store.js';
import type { JobLike } from './JobOutputs.js';
import { client } from '../api/agent-call.js';

export interface MarketView {
  /** Local job id → the market's record (kept after the job ends, for this session). */
  records: Map<string, MarketJobRecord>;
  /** Local job id → the ledger's row. */
  earnings: Map<string, EarningRow>;
  tokenDecimals: number;
  tokenSymbol: string;
}

/** Records seen while jobs ran: market.status lists running jobs only. */
const seenRecords = new Map<string, MarketJobRecord>();

/** The market's view of the jobs, refreshed on market.update, wallet.update and jobs ending. */
export function useMarketView(): MarketView | null {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [view, setView] = useState<MarketView | null>(null);
  useEffect(() => {
    if (!connected) return;
    const c = client();
    let live = true;
    let meta = { tokenDecimals: 18, tokenSymbol: 'tokens' };
    let earnings = new Map<string, EarningRow>();
    const publish = () => {
      if (live) setView({ records: new Map(seenRecords), earnings, ...meta });
    };
    const takeStatus = (s: { jobs: MarketJobRecord[]; tokenDecimals: number; tokenSymbol: string }) => {
      for (const j of s.jobs) seenRecords.set(j.localJobId, j);
      if (seenRecords.size > 500) seenRecords.delete(seenRecords.keys().next().value!);
      meta = { tokenDecimals: s.tokenDecimals, tokenSymbol: s.tokenSymbol };
      publish();
    };
    const readEarnings = () =>
      c.call('earnings.jobs', { limit: 200, offset: 0 }).then(
        (r) => {
          earnings = new Map(r.jobs.filter((row) => row.jobId).map((row) => [row.jobId!, row]));
          publish();
        },
        () => {},
      );
    // Either may be missing (an older agent, no wallet yet): the page then shows what it has.
    c.call('market.status', {}).then(takeStatus, () => {});
    void readEarnings();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        void readEarnings();
        c.call('market.status', {}).then(takeStatus, () => {});
      }, 800);
    };
    const offs = [
      c.on('market.update', takeStatus),
      c.on('wallet.update', soon),
      c.on('job.update', (job) => {
        if (job.marketJobId && isFinalState(job.state)) soon();
      }),
    ];
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      for (const off of offs) off();
    };
  }, [connected]);
  return view;
}

/** What the list's Earnings column says for a job. */
export function earnedText(job: JobLike, market: MarketView | null): string {
  if (!job.marketJobId || !market) return '—';
  const row = market.earnings.get(job.id);
  const record = market.records.get(job.id);
  const t = (u: string) => `${formatTokens(u, market.tokenDecimals, { maxFraction: 4, grouped: true })} ${market.tokenSymbol}`;
  if (row && isFinalState(job.state)) return t(row.earned);
  if (record) return t(record.paidUpTo);
  if (row) return t(row.earned);
  return '—';
}

/** Buyer, price and earnings of a marketplace job, in the job view. */
export function JobMarketInfo({ job, market }: { job: JobLike; market: MarketView | null }) {
  if (!job.marketJobId) return null;
  const record = market?.records.get(job.id) ?? null;
  const row = market?.earnings.get(job.id) ?? null;
  const t = (u: string) => (market ? `${formatTokens(u, market.tokenDecimals, { maxFraction: 6, grouped: true })} ${market.tokenSymbol}` : u);
  return (
    <dl className="job-market" data-testid="job-market">
      <dt>Marketplace job</dt>
      <dd className="mono small">{record?.jobId ?? job.marketJobId}</dd>
      {record ? (
        <>
          <dt>Buyer</dt>
          <dd className="mono" title={record.buyer} data-testid="job-market-buyer">
            {shortAddress(record.buyer)}
          </dd>
          <dt>Price</dt>
          <dd data-testid="job-market-price">{t(record.pricePerHour)} per hour</dd>
          {/* Once the job has ended the ledger's figure below is the final word. */}
          {row && isFinalState(job.state) ? null : (
            <>
              <dt>Paid up to</dt>
              <dd data-testid="job-market-paid">
                {t(record.paidUpTo)} <span className="muted">of {t(record.amountDue)} due for {record.usageSeconds} s</span>
              </dd>
            </>
          )}
          {record.voucherProblem ? (
            <>
              <dt>Last voucher</dt>
              <dd className="tone-warn">refused: {record.voucherProblem}</dd>
            </>
          ) : null}
        </>
      ) : null}
      {row ? (
        <>
          <dt>Earned</dt>
          <dd data-testid="job-market-earned">
            {t(row.earned)} <span className={`pill pill-${row.status}`}>{row.status}</span>
          </dd>
        </>
      ) : null}
      {!record && !row ? (
        <>
          <dt>Earned</dt>
          <dd className="muted">Not known yet: the ledger fills this in from the buyer's vouchers.</dd>
        </>
      ) : null}
    </dl>
  );
}
