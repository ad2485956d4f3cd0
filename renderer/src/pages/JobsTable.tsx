/** The Jobs page's list: each job with its picture, state, reason, GPUs, duration and earnings, and a button for older jobs. */
import type { JobSummary } from '../../../runtime/jobs/schema.js';
import { jobDuration, stateTone } from '../lib/jobs.js';
import { earnedText, type MarketView } from './JobMarket.js';
import { JobThumb } from './JobOutputs.js';

interface JobsTableProps {
  jobs: JobSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
  now: number;
  market: MarketView | null;
  /** Where the next page of older jobs begins, or null when all are shown. */
  nextOffset: number | null;
  onLoadOlder: (offset: number) => void;
}

export function JobsTable({ jobs, selected, onSelect, now, market, nextOffset, onLoadOlder }: JobsTableProps) {
  return (
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
            <tr key={j.id} className={`job-row${j.id === selected ? ' selected' : ''}`} onClick={() => onSelect(j.id)} data-testid="job-row" data-job-id={j.id} data-state={j.state}>
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
        <button type="button" className="button" onClick={() => onLoadOlder(nextOffset)} data-testid="jobs-load-older">
          Show older jobs
        </button>
      ) : null}
    </div>
  );
}
