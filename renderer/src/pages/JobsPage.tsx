/**
 * The Jobs page: every job with its state, reason, GPUs, duration and earnings; a job view with
 * its limits, exit reason, live log (capped, so a long log cannot freeze the page) and a cancel
 * button. Fed by jobs.list / jobs.logs and the job.update / job.log events.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { JobProgressEvent, JobSummary } from '../../../runtime/jobs/schema.js';
import { Icon } from '../components/icons.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { appendLog, canCancel, jobDuration, limitsLine, mergeJob, stateTone } from '../lib/jobs.js';
import { pullFraction, pullLine } from '../lib/images.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import { earnedText, JobMarketInfo, JobPicture, JobThumb, useMarketView } from './JobOutputs.js';
import './jobs.css';

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

export function JobsPage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  /** Where the next page of older jobs begins (jobs.list is paged), or null when all are shown. */
  const [nextOffset, setNextOffset] = useState<number | null>(null);
  const [outOfService, setOutOfService] = useState<{ gpuKey: string; reason: string }[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [log, setLog] = useState<{ text: string; trimmed: boolean; dropped: number }>({ text: '', trimmed: false, dropped: 0 });
  const [error, setError] = useState<string | null>(null);
  /** The latest image-pull progress per job, while it pulls. */
  const [pulls, setPulls] = useState<Record<string, JobProgressEvent>>({});
  const [now, setNow] = useState(() => Date.now());
  const market = useMarketView();
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const logRef = useRef<HTMLPreElement | null>(null);
  // Follow the log while the view is at its end; leave it where the reader scrolled otherwise.
  useEffect(() => {
    const el = logRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [log.text]);

  useEffect(() => {
    if (!connected) return;
    const c = client();
    c.call('jobs.list', { limit: 100 }).then(
      (r) => {
        setJobs(r.jobs);
        setNextOffset(r.nextOffset);
        setOutOfService(r.gpusOutOfService);
        setError(null);
      },
      (e: unknown) => setError(message(e)),
    );
    const offUpdate = c.on('job.update', (job) => setJobs((list) => mergeJob(list, job)));
    const offProgress = c.on('job.progress', (p) => setPulls((all) => ({ ...all, [p.id]: p })));
    // Live lines are batched into one state update per animation frame.
    let pending = '';
    let frame: number | null = null;
    const offLog = c.on('job.log', (e) => {
      if (e.id !== selectedRef.current) return;
      pending += e.text;
      frame ??= requestAnimationFrame(() => {
        const text = pending;
        pending = '';
        frame = null;
        setLog((l) => {
          const next = appendLog(l.text, text);
          return { text: next.text, trimmed: l.trimmed || next.trimmed, dropped: l.dropped };
        });
      });
    });
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      offUpdate();
      offProgress();
      offLog();
      clearInterval(tick);
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [connected]);

  useEffect(() => {
    if (!selected || !connected) return;
    setLog({ text: '', trimmed: false, dropped: 0 });
    client()
      .call('jobs.logs', { id: selected })
      .then(
        (r) => setLog({ ...appendLog('', r.text), dropped: r.droppedBytes }),
        (e: unknown) => setError(message(e)),
      );
  }, [selected, connected]);

  const job = jobs.find((j) => j.id === selected) ?? null;
  const loadOlder = (offset: number) =>
    client()
      .call('jobs.list', { limit: 100, offset })
      .then(
        (r) => {
          setJobs((list) => [...list, ...r.jobs.filter((j) => !list.some((k) => k.id === j.id))]);
          setNextOffset(r.nextOffset);
        },
        (e: unknown) => setError(message(e)),
      );
  const cancel = (id: string) => client().call('jobs.cancel', { id }).then(() => setError(null), (e: unknown) => setError(message(e)));

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
          <div className="card">
            <table className="jobs-table" data-testid="jobs-table">
              <thead>
                <tr>
                  <th aria-label="Picture" />
                  <th>Job</th>
                  <th>State</th>
                  <th>Reason</th>
                  <th>GPUs</th>
                  <th>Duration</th>
                  <th>Earnings</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <tr key={j.id} className={`job-row${j.id === selected ? ' selected' : ''}`} onClick={() => setSelected(j.id)} data-testid="job-row" data-job-id={j.id} data-state={j.state}>
                    <td className="job-thumb-cell">
                      <JobThumb job={j} />
                    </td>
                    <td className="job-id">{j.id.slice(0, 8)}</td>
                    <td className={`job-state tone-${stateTone(j.state)}`}>{j.state}</td>
                    <td className="muted">{j.reason}</td>
                    <td>{j.gpus.length ? j.gpus.length : '—'}</td>
                    <td>{jobDuration(j, now)}</td>
                    <td className={j.marketJobId ? undefined : 'muted'} title="From the buyer's vouchers: paid up to while it runs, earned once it ends" data-testid="job-earned">
                      {earnedText(j, market)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {nextOffset !== null ? (
              <button type="button" className="button" onClick={() => void loadOlder(nextOffset)} data-testid="jobs-load-older">
                Show older jobs
              </button>
            ) : null}
          </div>
          {job ? (
            <div className="card job-detail" data-testid="job-detail">
              <div className="toolbar">
                <h2 className="job-id">{job.id}</h2>
                {canCancel(job.state) ? (
                  <button type="button" className="button" onClick={() => void cancel(job.id)} data-testid="job-cancel">
                    Cancel job
                  </button>
                ) : null}
              </div>
              <p>
                <span className={`job-state tone-${stateTone(job.state)}`}>{job.state}</span> — {job.detail}
                {job.exitCode !== null && !(job.detail ?? '').includes(`exit code ${job.exitCode}`) ? ` (exit code ${job.exitCode})` : ''}
              </p>
              {job.state === 'pulling' && pulls[job.id] ? <PullProgress event={pulls[job.id]!} /> : null}
              <JobPicture job={job} />
              <JobMarketInfo job={job} market={market} />
              <p className="muted small">{limitsLine(job)}</p>
              <p className="muted small job-image">Image {job.spec.image}</p>
              {job.gpus.length ? <p className="muted small">GPUs: {job.gpus.join(', ')}</p> : null}
              {log.trimmed ? <p className="muted small">Showing the newest part of the log.</p> : null}
              <pre className="job-log" data-testid="job-log" ref={logRef}>
                {log.text || 'No output yet.'}
              </pre>
              {log.dropped > 0 ? <p className="muted small">{log.dropped} bytes of log were dropped (over the job's log cap).</p> : null}
            </div>
          ) : (
            <div className="card muted">Select a job to see its limits, its exit reason and its log.</div>
          )}
        </div>
      )}
    </div>
  );
}

/** A job's image download: a bar, and "1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left" (the agent's detail from an agent without the figures). */
function PullProgress({ event }: { event: JobProgressEvent }) {
  const percent = Math.round((pullFraction(event) ?? 0) * 100);
  return (
    <div data-testid="job-pull-progress">
      <div className="meter" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className="meter-fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="muted small" data-testid="job-pull-line">
        {pullLine(event)}
      </p>
    </div>
  );
}
