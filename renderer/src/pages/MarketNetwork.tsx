/** The Marketplace page's network banner: the demo network, a real market (its address) or off, with the field to connect to a market or the button to turn it on. */
import { useState, type ReactNode } from 'react';
import type { CommandInput } from '../../../runtime/api/contract.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { LockNote } from '../components/LockNote.js';
import { checkMarketUrl } from '../lib/market.js';
import { message } from '../api/agent-call.js';

type MarketPatch = CommandInput<'market.settings'>;
type Network = MarketStatus['network'];

/** The address typed, and a change of network saved (the field emptied) or refused (the problem shown). */
function useNetworkChange(save: (p: MarketPatch) => Promise<MarketStatus>) {
  const [url, setUrl] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (patch: MarketPatch) => {
    setBusy(true);
    try {
      await save(patch);
      setProblem(null);
      setUrl('');
    } catch (e) {
      setProblem(message(e));
    } finally {
      setBusy(false);
    }
  };
  const connect = () => {
    const checked = checkMarketUrl(url);
    if (!checked.ok) return setProblem(checked.why);
    void run({ url: checked.url, enabled: true });
  };
  return { url, setUrl, problem, setProblem, busy, run, connect };
}

function MarketUrlForm({ url, busy, locked, network, onChange, onConnect }: { url: string; busy: boolean; locked: boolean; network: Network; onChange: (url: string) => void; onConnect: () => void }) {
  return (
    <form
      className="market-url-form"
      onSubmit={(e) => {
        e.preventDefault();
        onConnect();
      }}
    >
      <input
        type="text"
        className="market-input"
        placeholder="wss://market.example.com"
        value={url}
        disabled={busy || locked}
        onChange={(e) => onChange(e.target.value)}
        aria-label="Market address"
        data-testid="market-url-input"
      />
      <button type="submit" className="button button-primary" disabled={busy || locked || !url.trim()} data-testid="market-url-connect">
        {network === 'real' ? 'Switch market' : network === 'demo' ? 'Move to a real market' : 'Connect'}
      </button>
    </form>
  );
}

function NetworkHead({ badge, badgeClass, children }: { badge: string; badgeClass: string; children: ReactNode }) {
  return (
    <div className="market-network-head">
      <span className={badgeClass}>{badge}</span>
      <div>{children}</div>
    </div>
  );
}

export function NetworkBanner({ status, save }: { status: MarketStatus; save: (p: MarketPatch) => Promise<MarketStatus> }) {
  const { url, setUrl, problem, setProblem, busy, run, connect } = useNetworkChange(save);
  const urlLocked = status.locked.includes('market.url');
  // While the demo network starts, the agent has no network yet: it is the demo that is coming.
  const network = status.state === 'starting-demo' ? 'demo' : status.network;
  const form = <MarketUrlForm url={url} busy={busy} locked={urlLocked} network={network} onChange={(next) => (setUrl(next), setProblem(null))} onConnect={connect} />;
  return (
    <div className={`card market-network network-${network}`} data-testid="market-network" data-network={network}>
      {network === 'demo' ? (
        <>
          <NetworkHead badge="Demo" badgeClass="network-badge network-badge-demo">
            <strong data-testid="demo-banner">Demo network: test tokens on a chain that runs on this computer</strong>
            <p className="muted small">
              The jobs are real renders run in the sandbox, paid by a demo buyer in tokens that have no value. To earn for real, enter the address of a market.
            </p>
          </NetworkHead>
          {form}
        </>
      ) : network === 'real' ? (
        <>
          <NetworkHead badge="Market" badgeClass="network-badge network-badge-real">
            <strong>
              Real market: <span className="mono" data-testid="market-url">{status.url}</span>
            </strong>
            <p className="muted small">Jobs come from buyers on this market and pay into your wallet.</p>
          </NetworkHead>
          <div className="market-url-row">
            {form}
            <button type="button" className="button" disabled={busy || urlLocked} onClick={() => void run({ url: null, demo: true, enabled: true })} data-testid="market-use-demo">
              Use the demo network instead
            </button>
          </div>
        </>
      ) : (
        <>
          <NetworkHead badge="Off" badgeClass="network-badge">
            <strong>The marketplace is off: no jobs come to this computer.</strong>
            <p className="muted small">
              {status.settings.enabled ? 'Enter the address of a market to take jobs from it.' : 'Turn it on to take jobs (the demo network on this computer when no market address is set).'}
            </p>
          </NetworkHead>
          <div className="market-url-row">
            {status.settings.enabled ? (
              form
            ) : (
              <button type="button" className="button button-primary" disabled={busy || status.locked.includes('market.enabled')} onClick={() => void run({ enabled: true })} data-testid="market-turn-on">
                Turn the marketplace on
              </button>
            )}
          </div>
        </>
      )}
      {urlLocked ? <LockNote text="Set by your administrator's policy: it cannot be changed here" /> : null}
      {problem ? (
        <p className="market-problem small" role="alert" data-testid="market-url-problem">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
