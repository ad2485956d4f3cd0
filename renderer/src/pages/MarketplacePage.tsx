/**
 * The Marketplace page: the connection to the market and why it is in that state (with the
 * retry time), which network (the demo on this computer, or a real market, one field away), the
 * owner's prices beside the suggested one (locked fields shown locked), the offers received with
 * the decision and its reason, the marketplace jobs running now with what they have paid, and
 * which jobs can come here (GPU jobs, or CPU jobs only and why).
 * Live: market.update and job.update refresh it.
 */
import { useCallback, useEffect, useState } from 'react';
import type { CommandInput } from '../../../runtime/api/contract.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { CONNECTION_LABEL, retryText } from '../lib/market.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client, message } from '../api/agent-call.js';
import { MarketJobKinds } from './MarketJobKinds.js';
import { RunningJobs } from './MarketJobs.js';
import { NetworkBanner } from './MarketNetwork.js';
import { Offers } from './MarketOffers.js';
import { PricesCard } from './MarketPrices.js';
import './marketplace.css';

type MarketPatch = CommandInput<'market.settings'>;

export function MarketplacePage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [status, setStatus] = useState<MarketStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const refresh = useCallback(async () => {
    try {
      setStatus(await client().call('market.status', {}));
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, []);

  useEffect(() => {
    if (!connected) return;
    void refresh();
    const c = client();
    const offMarket = c.on('market.update', (s) => setStatus(s));
    const offJob = c.on('job.update', () => void refresh());
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      offMarket();
      offJob();
      clearInterval(tick);
    };
  }, [connected, refresh]);

  const save = useCallback(async (patch: MarketPatch) => {
    const next = await client().call('market.settings', patch);
    setStatus(next);
    return next;
  }, []);

  if (!status) {
    return <div className="page">{error ? <ErrorBanner title="Marketplace" text={error} /> : <div className="card skeleton">Asking the agent about the market…</div>}</div>;
  }
  return (
    <div className="page market-page" data-testid="market-page">
      {error ? <ErrorBanner title="Marketplace" text={error} /> : null}
      <NetworkBanner status={status} save={save} />
      <ConnectionCard status={status} now={now} />
      <MarketJobKinds demoJobs={status.demoJobs ?? null} />
      <PricesCard status={status} save={save} />
      <RunningJobs status={status} now={now} />
      <Offers status={status} />
    </div>
  );
}

function ConnectionCard({ status, now }: { status: MarketStatus; now: number }) {
  const { label, tone } = CONNECTION_LABEL[status.state];
  const retry = status.state === 'retrying' || status.state === 'connecting' ? retryText(status.nextRetryAt, now) : null;
  return (
    <div className="card market-connection" data-testid="market-connection" data-state={status.state}>
      <div className="market-connection-head">
        <span className={`state-pill tone-bg-${tone}`} data-testid="market-state">
          {label}
        </span>
        {retry ? (
          <span className="muted small" data-testid="market-retry">
            {retry}
          </span>
        ) : null}
        <span className="muted small market-since">since {new Date(status.since).toLocaleTimeString()}</span>
      </div>
      <p className="market-reason" data-testid="market-reason">
        {status.reason}
      </p>
      <p className="muted small">
        {status.address && status.reason.includes(status.address) ? (
          'The address is your wallet: the market knows this computer by it, and pays into it.'
        ) : status.address ? (
          <>
            Signed in as <span className="mono">{status.address}</span> (your wallet: the market knows this computer by it, and pays into it).
          </>
        ) : (
          'The market knows this computer by its wallet address: it signs in with the wallet once it is unlocked.'
        )}
      </p>
    </div>
  );
}
