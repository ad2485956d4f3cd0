/** The Jobs page's job view: state and exit reason, image pull, picture, marketplace details, limits, GPUs, the live log and a cancel button. */
import type { RefObject } from 'react';
import type { JobProgressEvent, JobSummary } from '../../../runtime/jobs/schema.js';
import { canCancel, limitsLine, stateTone } from '../lib/jobs.js';
import { pullFraction, pullLine } from '../lib/images.js';
import { JobMarketInfo, type MarketView } from './JobMarket.js';
import { JobPicture } from './JobOutputs.js';
import type { JobLogView } from './useJobs.js';

interface JobDetailProps {
  job: JobSummary;
  /** The latest image-pull progress of this job, if any. */
  pull: JobProgressEvent | undefined;
  market: MarketView | null;
  log: JobLogView;
  logRef: RefObject<HTMLPreElement | null>;
  onCancel: (id: string) => void;
}

export function JobDetail({ job, pull, market, log, logRef, onCancel }: JobDetailProps) {
  return (
    <div className="card job-detail" data-testid="job-detail">
      <div className="toolbar">
        <h2 className="job-id">{job.id}</h2>
        {canCancel(job.state) ? (
          <button type="button" className="button" onClick={() => onCancel(job.id)} data-testid="job-cancel">
            Cancel job
          </button>
        ) : null}
      </div>
      <p>
        <span className={`job-state tone-${stateTone(job.state)}`}>{job.state}</span> — {job.detail}
        {job.exitCode !== null && !(job.detail ?? '').includes(`exit code ${job.exitCode}`) ? ` (exit code ${job.exitCode})` : ''}
      </p>
      {job.state === 'pulling' && pull ? <PullProgress event={pull} /> : null}
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
