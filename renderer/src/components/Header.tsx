/** The header: always the agent's one state and its reason, in plain words. */
import { useEffect, useState } from 'react';
import { formatSince, stateHeadline } from '../lib/format.js';
import { useDashboard } from '../store/dashboard-store.js';

export function Header({ title }: { title: string }) {
  const agent = useDashboard((s) => s.agent);
  const phase = useDashboard((s) => s.connection.phase);
  const connected = phase === 'connected';
  const now = useNow(5000);

  let pill: { label: string; className: string };
  let sentence: string;
  if (agent) {
    const headline = stateHeadline(agent);
    pill = { label: headline.label, className: `state-${agent.state}` };
    sentence = headline.sentence;
  } else {
    pill = { label: connected ? 'Loading' : 'Unknown', className: 'state-unknown' };
    sentence = connected ? 'Asking the agent for its state…' : phase === 'no-token' ? 'Not connected: this page has no token for the agent.' : phase === 'rejected' ? 'Not connected: the agent refused this page’s token.' : 'Not connected to the agent yet.';
  }

  return (
    <header className="topbar">
      <h1 className="page-title">{title}</h1>
      <div className={`agent-state${connected ? '' : ' stale'}`} data-testid="agent-state" data-state={agent?.state ?? 'unknown'} aria-live="polite">
        <span className={`state-pill ${pill.className}`} data-testid="state-pill">
          <span className="state-dot" aria-hidden="true" />
          {pill.label}
        </span>
        <span className="state-sentence" data-testid="state-reason">
          {sentence}
        </span>
        {agent ? (
          <span className="state-since" title={new Date(agent.since).toLocaleString()}>
            {connected ? `since ${formatSince(agent.since, now)}` : 'last known'}
          </span>
        ) : null}
      </div>
    </header>
  );
}

/** Re-renders every `periodMs` (for "since 5 min ago"). */
function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}
