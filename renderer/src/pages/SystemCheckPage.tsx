/** The system check: each prerequisite as pass / warn / fail with a sentence to act on. */
import { SelfTestSection } from '../bench/SelfTestSection.js';
import { CheckRow } from '../components/CheckRow.js';
import { Icon } from '../components/icons.js';
import { runSystemCheck } from '../store/session.js';
import { useDashboard } from '../store/dashboard-store.js';

export function SystemCheckPage() {
  const check = useDashboard((s) => s.systemCheck);
  const running = useDashboard((s) => s.systemCheckRunning);
  const error = useDashboard((s) => s.systemCheckError);
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const item of check?.items ?? []) counts[item.status]++;

  return (
    <div className="page">
      <div className="toolbar">
        <p className="muted" data-testid="check-summary">
          {check
            ? `${counts.pass} passed · ${counts.warn} warning${counts.warn === 1 ? '' : 's'} · ${counts.fail} failed — checked ${new Date(check.checkedAt).toLocaleTimeString()}`
            : running
              ? 'Checking this machine…'
              : 'Not checked yet.'}
        </p>
        <button type="button" className="button button-primary" onClick={() => void runSystemCheck()} disabled={running || !connected} aria-busy={running} data-testid="check-rerun">
          <Icon name="refresh" size={16} className={running ? 'spin' : undefined} />
          {running ? 'Checking…' : 'Run the check again'}
        </button>
      </div>
      {running ? <div className="progress" role="progressbar" aria-label="Checking" /> : null}

      {error ? (
        <div className="banner banner-fail" role="alert">
          <Icon name="fail" />
          <div className="banner-text">
            <strong>The check could not run</strong>
            <span>{error}</span>
          </div>
        </div>
      ) : null}

      {check ? (
        <ul className={`check-list${running ? ' stale' : ''}`}>
          {check.items.map((item) => (
            <CheckRow key={item.id} item={item} />
          ))}
        </ul>
      ) : !error ? (
        <div className="card skeleton" aria-busy="true">
          Checking the GPU driver, Docker and disk space…
        </div>
      ) : null}

      <SelfTestSection />
    </div>
  );
}
