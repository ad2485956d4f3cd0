/**
 * The Jobs page: every job with its state, reason, GPUs, duration and earnings; a job view with
 * its limits, exit reason, live log (capped, so a long log cannot freeze the page) and a cancel
 * button. Fed by jobs.list / jobs.logs and the job.update / job.log events (useJobs.ts); the
 * list is JobsTable.tsx, the job view JobDetail.tsx.
 */
import { useState } from 'react';
import { Icon } from '../components/icons.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { useDashboard } from '../store/dashboard-store.js';
import { JobDetail } from './JobDetail.js';
import { useMarketView } from './JobMarket.js';
import { JobsTable } from './JobsTable.js';
import { useJobLog, useJobsFeed } from './useJobs.js';
import './jobs.css';

export function JobsPage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const market = useMarketView();
  const [selected, setSelected] = useState<string | null>(null);
  const { jobs, nextOffset, outOfService, error, setError, pulls, now, loadOlder, cancel } = useJobsFeed(connected);
  const { log, logRef } = useJobLog(selected, connected, setError);
  const job = jobs.find((j) => j.id === selected) ?? null;

  return (
    <div className="page">
      {error ? <ErrorBanner title="Jobs" text={error} /> : null}
      {outOfService.map((g) => (
        <div key={g.gpuKey} className="banner banner-warn" data-testid="gpu-out-of-service">
          <Icon name="warn" />
          <div className="banner-text">
            <strong>{g.gpuKey}</strong>
            <span>{g.reason}</span>
          </div>
        </div>
      ))}
      {jobs.length === 0 ? (
        <div className="card empty-state">
          <h2>No jobs yet</h2>
          <p className="muted">Marketplace jobs appear here as they run. To try the sandbox: offshift job run --image sha256:… -- echo hello</p>
        </div>
      ) : (
        <div className="jobs-layout">
          <JobsTable jobs={jobs} selected={selected} onSelect={setSelected} now={now} market={market} nextOffset={nextOffset} onLoadOlder={(offset) => void loadOlder(offset)} />
          {job ? (
            <JobDetail job={job} pull={pulls[job.id]} market={market} log={log} logRef={logRef} onCancel={(id) => void cancel(id)} />
          ) : (
            <div className="card muted">Select a job to see its limits, its exit reason and its log.</div>
          )}
        </div>
      )}
    </div>
  );
}
