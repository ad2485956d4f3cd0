/**
 * The Marketplace page: the connection to the market and why it is in that state (with the
 * retry time), which network (the demo on this computer, or a real market, one field away), the
 * owner's prices beside the suggested one (locked fields shown locked), the offers received with
 * the decision and its reason, the marketplace jobs running now with what they have paid, and
 * which jobs can come here (GPU jobs, or CPU jobs only and why).
 * Live: market.update and job.update refresh it.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { CommandInput } from '../../../runtime/api/contract.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LockNote } from '../components/LockNote.js';
import { CONNECTION_LABEL, checkMarketUrl, formatSeconds, paidFraction, retryText, runSeconds, shortAddress } from '../lib/market.js';
import { parseTokens } from '../lib/money.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import { MarketJobKinds } from './MarketJobKinds.js';
import './marketplace.css';
import { formatTokens } from '../../../runtime/ledger/schema.js';

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

type MarketPatch = CommandInput<'market.settings'>;
type PriceField = 'minPricePerGpuHour' | 'minPricePerJobHour';

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

function NetworkBanner({ status, save }: { status: MarketStatus; save: (p: MarketPatch) => Promise<MarketStatus> }) {
  const [url, setUrl] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const urlLocked = status.locked.includes('market.url');
  // While the demo network starts, the agent has no network yet: it is the demo that is coming.
  const network = status.state === 'starting-demo' ? 'demo' : status.network;
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
  const form = (
    <form
      className="market-url-form"
      onSubmit={(e) => {
        e.preventDefault();
        connect();
      }}
    >
      <input
        type="text"
        className="market-input"
        placeholder="wss://market.example.com"
        value={url}
        disabled={busy || urlLocked}
        onChange={(e) => (setUrl(e.target.value), setProblem(null))}
        aria-label="Market address"
        data-testid="market-url-input"
      />
      <button type="submit" className="button button-primary" disabled={busy || urlLocked || !url.trim()} data-testid="market-url-connect">
        {network === 'real' ? 'Switch market' : network === 'demo' ? 'Move to a real market' : 'Connect'}
      </button>
    </form>
  );
  return (
    <div className={`card market-network network-${network}`} data-testid="market-network" data-network={network}>
      {network === 'demo' ? (
        <>
          <div className="market-network-head">
            <span className="network-badge network-badge-demo">Demo</span>
            <div>
              <strong data-testid="demo-banner">Demo network: test tokens on a chain that runs on this computer</strong>
              <p className="muted small">
                The jobs are real renders run in the sandbox, paid by a demo buyer in tokens that have no value. To earn for real, enter the address of a market.
              </p>
            </div>
          </div>
          {form}
        </>
      ) : network === 'real' ? (
        <>
          <div className="market-network-head">
            <span className="network-badge network-badge-real">Market</span>
            <div>
              <strong>
                Real market: <span className="mono" data-testid="market-url">{status.url}</span>
              </strong>
              <p className="muted small">Jobs come from buyers on this market and pay into your wallet.</p>
            </div>
          </div>
          <div className="market-url-row">
            {form}
            <button type="button" className="button" disabled={busy || urlLocked} onClick={() => void run({ url: null, demo: true, enabled: true })} data-testid="market-use-demo">
              Use the demo network instead
            </button>
          </div>
        </>
      ) : (
        <>
          <div className="market-network-head">
            <span className="network-badge">Off</span>
            <div>
              <strong>The marketplace is off: no jobs come to this computer.</strong>
              <p className="muted small">
                {status.settings.enabled ? 'Enter the address of a market to take jobs from it.' : 'Turn it on to take jobs (the demo network on this computer when no market address is set).'}
              </p>
            </div>
          </div>
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

function PricesCard({ status, save }: { status: MarketStatus; save: (p: MarketPatch) => Promise<MarketStatus> }) {
  const d = status.tokenDecimals;
  const show = (units: string) => formatTokens(units, d, { grouped: true });
  const [draft, setDraft] = useState<Record<PriceField, string>>(() => ({
    minPricePerGpuHour: show(status.settings.minPricePerGpuHour),
    minPricePerJobHour: show(status.settings.minPricePerJobHour),
  }));
  const [saved, setSaved] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const gpu = status.settings.minPricePerGpuHour;
  const job = status.settings.minPricePerJobHour;
  // When the agent's values change (another window, the CLI), show them.
  useEffect(() => {
    setDraft({ minPricePerGpuHour: formatTokens(gpu, d, { grouped: true }), minPricePerJobHour: formatTokens(job, d, { grouped: true }) });
  }, [gpu, job, d]);

  const locked = (f: PriceField) => status.locked.includes(`market.${f}`);
  const parsed = {
    minPricePerGpuHour: parseTokens(draft.minPricePerGpuHour, d),
    minPricePerJobHour: parseTokens(draft.minPricePerJobHour, d),
  };
  const patch: MarketPatch = {};
  for (const f of ['minPricePerGpuHour', 'minPricePerJobHour'] as const) {
    const v = parsed[f];
    if (v !== null && v !== status.settings[f] && !locked(f)) patch[f] = v;
  }
  const invalid = (['minPricePerGpuHour', 'minPricePerJobHour'] as const).filter((f) => parsed[f] === null);
  const dirty = Object.keys(patch).length > 0;

  const submit = async () => {
    setBusy(true);
    try {
      await save(patch);
      setSaved('Saved: new offers are decided with these prices.');
      setProblem(null);
    } catch (e) {
      setProblem(message(e));
      setSaved(null);
    } finally {
      setBusy(false);
    }
  };

  const field = (f: PriceField, label: string, hint: string, suggestion: ReactNode) => (
    <div className={`market-price${locked(f) ? ' is-locked' : ''}`} data-testid={`price-${f}`} data-locked={locked(f) ? 'true' : 'false'}>
      <label className="market-price-label" htmlFor={`price-input-${f}`}>
        {label}
        <span className="muted small">{hint}</span>
      </label>
      <div className="market-price-control">
        <input
          id={`price-input-${f}`}
          className="market-input market-price-input"
          inputMode="decimal"
          value={draft[f]}
          disabled={busy || locked(f)}
          onChange={(e) => (setDraft((x) => ({ ...x, [f]: e.target.value })), setSaved(null))}
          aria-invalid={parsed[f] === null}
          data-testid={`price-input-${f}`}
        />
        <span className="muted">{status.tokenSymbol} / hour</span>
        {suggestion}
      </div>
      {locked(f) ? <LockNote text="Set by your administrator's policy: it cannot be changed here" /> : null}
    </div>
  );

  const suggested = status.suggestedPricePerGpuHour;
  return (
    <div className="card market-prices" data-testid="market-prices">
      <h3>Your prices</h3>
      <p className="muted small">An offer below max(price per job-hour, GPUs × price per GPU-hour) is declined, with that reason.</p>
      {field(
        'minPricePerGpuHour',
        'Lowest price per GPU-hour',
        'for each GPU a job uses',
        suggested ? (
          <span className="market-suggest" data-testid="price-suggested">
            suggested {show(suggested)} {status.tokenSymbol}
            {status.suggestionBasis ? <span className="muted small"> ({status.suggestionBasis})</span> : null}
            <button
              type="button"
              className="button button-small"
              disabled={busy || locked('minPricePerGpuHour')}
              onClick={() => (setDraft((x) => ({ ...x, minPricePerGpuHour: show(suggested) })), setSaved(null))}
              data-testid="price-use-suggested"
            >
              Use suggested
            </button>
          </span>
        ) : (
          <span className="muted small">no suggestion yet (it comes from your GPUs' benchmark)</span>
        ),
      )}
      {field('minPricePerJobHour', 'Lowest price per job-hour', 'for any job, with or without a GPU', null)}
      <div className="market-actions">
        <button type="button" className="button button-primary" disabled={busy || !dirty || invalid.length > 0} onClick={() => void submit()} data-testid="price-save">
          Save prices
        </button>
        {invalid.length ? (
          <span className="market-problem small" role="alert">
            A price is a token amount such as 0.25 (at most {d} decimals).
          </span>
        ) : null}
        {saved ? (
          <span className="tone-ok small" data-testid="price-saved">
            {saved}
          </span>
        ) : null}
        {problem ? (
          <span className="market-problem small" role="alert" data-testid="price-problem">
            {problem}
          </span>
        ) : null}
      </div>
    </div>
  );
}

function RunningJobs({ status, now }: { status: MarketStatus; now: number }) {
  const t = (units: string) => formatTokens(units, status.tokenDecimals, { maxFraction: 6, grouped: true });
  return (
    <div className="card" data-testid="market-jobs">
      <h3>Running now</h3>
      {status.jobs.length === 0 ? (
        <p className="muted">No marketplace job is running.{status.state === 'connected' ? ' Jobs start here as offers are accepted.' : ''}</p>
      ) : (
        <table className="market-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Buyer</th>
              <th className="num">Price</th>
              <th className="num">Run</th>
              <th>Paid up to / due</th>
            </tr>
          </thead>
          <tbody>
            {status.jobs.map((j) => {
              const fraction = paidFraction(j.paidUpTo, j.amountDue);
              return (
                <tr key={j.jobId} data-testid="market-job-row" data-job-id={j.jobId}>
                  <td>
                    <a className="mono" href={`#/jobs`} title={`Local job ${j.localJobId}`}>
                      {j.jobId.slice(0, 12)}
                    </a>
                    <div className="muted small">{j.state}</div>
                  </td>
                  <td className="mono" title={j.buyer}>
                    {shortAddress(j.buyer)}
                  </td>
                  <td className="num">
                    {t(j.pricePerHour)} <span className="muted small">{status.tokenSymbol}/h</span>
                  </td>
                  <td className="num">{formatSeconds(runSeconds(j, now))}</td>
                  <td>
                    <div className="paid-line">
                      <span data-testid="market-job-paid">{t(j.paidUpTo)}</span>
                      <span className="muted"> / {t(j.amountDue)} {status.tokenSymbol}</span>
                    </div>
                    <div className="meter paid-meter" role="progressbar" aria-label="Paid of what is due" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)}>
                      <div className={`meter-fill${fraction < 1 ? ' meter-behind' : ''}`} style={{ width: `${Math.round(fraction * 100)}%` }} />
                    </div>
                    {j.voucherProblem ? <div className="market-problem small">Last voucher refused: {j.voucherProblem}</div> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Offers({ status }: { status: MarketStatus }) {
  const t = (units: string) => formatTokens(units, status.tokenDecimals, { maxFraction: 6, grouped: true });
  return (
    <div className="card" data-testid="market-offers">
      <h3>Offers received</h3>
      {status.offers.length === 0 ? (
        <p className="muted">No offer yet. Each offer the market sends shows here with your agent's decision and its reason.</p>
      ) : (
        <table className="market-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Job</th>
              <th>Buyer</th>
              <th className="num">GPUs</th>
              <th className="num">Price</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {status.offers.map((o) => (
              <tr key={o.offerId} data-testid="market-offer-row" data-accepted={o.accepted ? 'true' : 'false'}>
                <td className="muted">{new Date(o.at).toLocaleTimeString()}</td>
                <td className="mono">{o.jobId.slice(0, 12)}</td>
                <td className="mono" title={o.buyer}>
                  {shortAddress(o.buyer)}
                </td>
                <td className="num">{o.gpus}</td>
                <td className="num">
                  {t(o.pricePerHour)} <span className="muted small">{status.tokenSymbol}/h</span>
                </td>
                <td>
                  <span className={`pill ${o.accepted ? 'pill-accepted' : 'pill-declined'}`}>{o.accepted ? 'Accepted' : 'Declined'}</span>{' '}
                  <span className="muted small" data-testid="market-offer-detail">
                    {o.detail}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
