/** The Images page's downloads in progress: a bar each, with bytes of the total, the rate and the time left. */
import type { ImagePull } from '../../../runtime/images/schema.js';
import { formatSince } from '../lib/format.js';
import { pullFraction, pullLine, shortRepository } from '../lib/images.js';

export function ImagesPulls({ pulls, now }: { pulls: readonly ImagePull[]; now: number }) {
  if (pulls.length === 0) return null;
  return (
    <section className="card images-pulls" data-testid="images-pulls">
      <h3>Downloading now</h3>
      <ul>
        {pulls.map((p) => {
          const fraction = pullFraction(p);
          const repository = p.ref.split('@')[0] ?? p.ref;
          return (
            <li key={`${p.ref}-${p.jobId ?? 'pre'}`} data-testid="images-pull" data-ref={p.ref}>
              <div className="images-pull-head">
                <span title={p.ref}>{shortRepository(repository)}</span>
                <span className="muted small">
                  {p.jobId === null ? 'pre-pull: the market says it is in demand' : <a href="#/jobs">for job {p.jobId.slice(0, 8)}</a>} · started{' '}
                  {formatSince(new Date(p.startedAt).toISOString(), now)}
                </span>
              </div>
              <div
                className={`meter${fraction === null ? ' meter-unknown' : ''}`}
                role="progressbar"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
                aria-label={`Download of ${repository}`}
              >
                <div className="meter-fill" style={{ width: `${Math.round((fraction ?? 0) * 100)}%` }} />
              </div>
              <p className="muted small" data-testid="images-pull-line">
                {pullLine(p)}
                {p.totalBytes === null ? ' (the total is not known until the registry says it)' : ''}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
