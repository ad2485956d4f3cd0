/**
 * Settings → Job outputs and logs: the retention rule (days kept, total size) and what finished
 * jobs' folders use now (`jobs.retention`). A change is saved with the button and applied at once;
 * fields an administrator set are shown locked.
 */
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { CommandInput, CommandOutput } from '../../../runtime/api/contract.js';
import { LockNote } from '../components/LockNote.js';
import { formatBytes } from '../lib/market.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';

type RetentionView = CommandOutput<'jobs.retention'>;
type RetentionPatch = CommandInput<'jobs.retention'>;

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

export function RetentionSettings() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [view, setView] = useState<RetentionView | null>(null);
  const [days, setDays] = useState('');
  const [mib, setMib] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = useCallback((v: RetentionView) => {
    setView(v);
    setDays(String(v.effective.maxAgeDays));
    setMib(String(v.effective.maxTotalMiB));
  }, []);
  const load = useCallback(async () => {
    try {
      show(await client().call('jobs.retention', {}));
    } catch (e) {
      setError(message(e));
    }
  }, [show]);
  useEffect(() => {
    if (!connected) return;
    void load();
    // What the folders use changes as jobs end and the rule applies: follow it while the page is open.
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, [connected, load]);

  if (!view) return error ? <p className="set-note" role="alert">{error}</p> : null;

  const locked = (field: keyof RetentionPatch) => view.locked.includes(`retention.${field}`);
  const save = async () => {
    const patch: RetentionPatch = {};
    const d = Number(days);
    const m = Number(mib);
    if (!locked('maxAgeDays') && d !== view.effective.maxAgeDays) patch.maxAgeDays = d;
    if (!locked('maxTotalMiB') && m !== view.effective.maxTotalMiB) patch.maxTotalMiB = m;
    if (Object.keys(patch).length === 0) return;
    if (!Number.isInteger(d) || d < 1 || d > 3650) return setError(`Keep outputs between 1 and 3650 days (whole days); "${days}" is not one.`);
    if (!Number.isInteger(m) || m < 16) return setError(`Keep at least 16 MiB of outputs (a whole number); "${mib}" is not one.`);
    setBusy(true);
    try {
      const before = view.usage.bytes;
      const next = await client().call('jobs.retention', patch);
      show(next);
      setError(null);
      const freed = before - next.usage.bytes;
      setSaved(freed > 0 ? `Saved and applied: ${formatBytes(freed)} of old outputs removed.` : 'Saved: applied now and every few minutes.');
    } catch (e) {
      setError(message(e));
      setSaved(null);
    } finally {
      setBusy(false);
    }
  };
  const u = view.usage;
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
        <label className={`set-field${locked('maxAgeDays') ? ' is-locked' : ''}`}>
          <span className="set-label">Keep finished jobs&apos; outputs for (days)</span>
          <span className="set-control">
            <input type="number" min={1} max={3650} step={1} value={days} disabled={busy || locked('maxAgeDays')} onChange={(e) => setDays(e.target.value)} data-testid="retention-days" />
            {locked('maxAgeDays') ? <LockNote kind="setting" /> : null}
          </span>
        </label>
        <label className={`set-field${locked('maxTotalMiB') ? ' is-locked' : ''}`}>
          <span className="set-label">Keep at most, all jobs together (MiB)</span>
          <span className="set-control">
            <input type="number" min={16} step={1} value={mib} disabled={busy || locked('maxTotalMiB')} onChange={(e) => setMib(e.target.value)} data-testid="retention-mib" />
            {locked('maxTotalMiB') ? <LockNote kind="setting" /> : null}
          </span>
        </label>
        <div className="set-field">
          <span className="set-label" data-testid="retention-usage">
            Now: {formatBytes(u.bytes)} in {u.jobs} job folder{u.jobs === 1 ? '' : 's'}
            {u.heldJobs > 0 ? `, of which ${formatBytes(u.heldBytes)} in ${u.heldJobs} kept until the job ends or its output is delivered` : ''}
            {u.oldestEndedAt !== null ? `; the oldest ended ${new Date(u.oldestEndedAt).toLocaleString()}` : ''}.
            {view.lastRun ? ` Last applied ${new Date(view.lastRun.at).toLocaleTimeString()}: ${view.lastRun.removedJobs} removed (${formatBytes(view.lastRun.freedBytes)}).` : ''}
          </span>
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
