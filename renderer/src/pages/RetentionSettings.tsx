/**
 * Settings → Job outputs and logs: the retention rule (days kept, total size) and what finished
 * jobs' folders use now (`jobs.retention`). A change is saved with the button and applied at once;
 * fields an administrator set are shown locked. The state and API calls are in useRetention.ts.
 */
import { LockNote } from '../components/LockNote.js';
import { formatBytes } from '../lib/market.js';
import { useRetention, type RetentionView } from './useRetention.js';

export function RetentionSettings() {
  const { view, days, setDays, mib, setMib, error, saved, busy, locked, save } = useRetention();

  if (!view) return error ? <p className="set-note" role="alert">{error}</p> : null;

  const every = Math.round(view.intervalMs / 60_000);

  return (
    <section className="card set-section" data-testid="settings-retention">
      <h3>Job outputs and logs</h3>
      <p className="set-note">
        Each finished job keeps its output files and log in the data folder. The oldest are removed once they are older than the days below, or when all of them
        together pass the size below; a running job, and a marketplace job whose output the buyer has not received yet, are never removed. Applied at start and
        every {every} minute{every === 1 ? '' : 's'}.
      </p>
      {error ? (
        <p className="set-note" role="alert" data-testid="retention-error">
          {error}
        </p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <NumberField label="Keep finished jobs' outputs for (days)" min={1} max={3650} value={days} busy={busy} locked={locked('maxAgeDays')} onChange={setDays} testId="retention-days" />
        <NumberField label="Keep at most, all jobs together (MiB)" min={16} value={mib} busy={busy} locked={locked('maxTotalMiB')} onChange={setMib} testId="retention-mib" />
        <div className="set-field">
          <RetentionUsage view={view} />
          <span className="set-control">
            <button type="submit" className="button" disabled={busy} data-testid="retention-save">
              Save
            </button>
          </span>
        </div>
      </form>
      {saved ? (
        <p className="muted" role="status" data-testid="retention-saved">
          {saved}
        </p>
      ) : null}
    </section>
  );
}

interface NumberFieldProps {
  label: string;
  min: number;
  max?: number;
  value: string;
  busy: boolean;
  locked: boolean;
  onChange: (text: string) => void;
  testId: string;
}

/** One whole-number field of the rule, shown locked when the administrator set it. */
function NumberField({ label, min, max, value, busy, locked, onChange, testId }: NumberFieldProps) {
  return (
    <label className={`set-field${locked ? ' is-locked' : ''}`}>
      <span className="set-label">{label}</span>
      <span className="set-control">
        <input type="number" min={min} max={max} step={1} value={value} disabled={busy || locked} onChange={(e) => onChange(e.target.value)} data-testid={testId} />
        {locked ? <LockNote kind="setting" /> : null}
      </span>
    </label>
  );
}

/** What the job folders use now, what is held, the oldest, and the rule's last run. */
function RetentionUsage({ view }: { view: RetentionView }) {
  const u = view.usage;
  return (
    <span className="set-label" data-testid="retention-usage">
      Now: {formatBytes(u.bytes)} in {u.jobs} job folder{u.jobs === 1 ? '' : 's'}
      {u.heldJobs > 0 ? `, of which ${formatBytes(u.heldBytes)} in ${u.heldJobs} kept until the job ends or its output is delivered` : ''}
      {u.oldestEndedAt !== null ? `; the oldest ended ${new Date(u.oldestEndedAt).toLocaleString()}` : ''}.
      {view.lastRun ? ` Last applied ${new Date(view.lastRun.at).toLocaleTimeString()}: ${view.lastRun.removedJobs} removed (${formatBytes(view.lastRun.freedBytes)}).` : ''}
    </span>
  );
}
