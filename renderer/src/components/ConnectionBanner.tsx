/** Says plainly when the dashboard cannot reach the agent, and what to do. */
import { useEffect, useState } from 'react';
import { retryConnectionNow } from '../store/session.js';
import { useDashboard } from '../store/dashboard-store.js';
import { Icon } from './icons.js';

export function ConnectionBanner() {
  const connection = useDashboard((s) => s.connection);
  const retryAt = connection.phase === 'reconnecting' || connection.phase === 'rejected' ? connection.retryAt : null;
  const seconds = useCountdown(retryAt);

  switch (connection.phase) {
    case 'connected':
    case 'connecting':
      return null;
    case 'reconnecting':
      return (
        <div className="banner banner-warn" role="alert" data-testid="connection-banner" data-phase="reconnecting">
          <Icon name="plug" />
          <div className="banner-text">
            <strong>Disconnected from the agent — reconnecting</strong>
            <span>
              {capitalize(connection.reason)}. {seconds > 0 ? `Trying again in ${seconds} s.` : 'Trying again…'} Is <code>npm run agent</code> still running?
            </span>
          </div>
          <button type="button" className="button button-small" onClick={retryConnectionNow}>
            Retry now
          </button>
        </div>
      );
    case 'rejected':
      return (
        <div className="banner banner-fail" role="alert" data-testid="connection-banner" data-phase="rejected">
          <Icon name="key" />
          <div className="banner-text">
            <strong>The agent refused this dashboard&apos;s token</strong>
            <span>
              The token in this link is wrong or out of date. Open the link the agent printed (<code>Dashboard: http://127.0.0.1:…/#token=…</code>).
              {seconds > 0 ? ` Trying again in ${seconds} s.` : ''}
            </span>
          </div>
        </div>
      );
    case 'no-token':
      return (
        <div className="banner banner-fail" role="alert" data-testid="connection-banner" data-phase="no-token">
          <Icon name="key" />
          <div className="banner-text">
            <strong>No token: open the link the agent printed</strong>
            <span>
              {connection.why === 'malformed' ? 'The token in this link is malformed. ' : ''}
              The dashboard needs the agent&apos;s token to connect. <code>npm run agent</code> prints a link like{' '}
              <code>Dashboard: http://127.0.0.1:7878/#token=…</code>; open that one. The token is also in the data folder&apos;s <code>api-token</code> file.
            </span>
          </div>
        </div>
      );
  }
}

function capitalize(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}
