/** The Marketplace page's "Your prices": the lowest price per GPU-hour (beside the suggested one) and per job-hour, saved with the button; administrator-set fields shown locked. */
import { useEffect, useState, type ReactNode } from 'react';
import type { CommandInput } from '../../../runtime/api/contract.js';
import { formatTokens } from '../../../runtime/ledger/schema.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { LockNote } from '../components/LockNote.js';
import { parseTokens } from '../lib/money.js';
import { message } from '../api/agent-call.js';

type MarketPatch = CommandInput<'market.settings'>;
type PriceField = 'minPricePerGpuHour' | 'minPricePerJobHour';

/** The prices as typed (following the agent's when they change), what they parse to, and saving what changed. */
function usePrices(status: MarketStatus, save: (p: MarketPatch) => Promise<MarketStatus>) {
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
  const edit = (f: PriceField, text: string) => (setDraft((x) => ({ ...x, [f]: text })), setSaved(null));

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

  return { show, draft, edit, locked, parsed, invalid, dirty, saved, problem, busy, submit };
}

type Prices = ReturnType<typeof usePrices>;

function PriceInput({ f, label, hint, suggestion, prices, symbol }: { f: PriceField; label: string; hint: string; suggestion: ReactNode; prices: Prices; symbol: string }) {
  const locked = prices.locked(f);
  return (
    <div className={`market-price${locked ? ' is-locked' : ''}`} data-testid={`price-${f}`} data-locked={locked ? 'true' : 'false'}>
      <label className="market-price-label" htmlFor={`price-input-${f}`}>
        {label}
        <span className="muted small">{hint}</span>
      </label>
      <div className="market-price-control">
        <input
          id={`price-input-${f}`}
          className="market-input market-price-input"
          inputMode="decimal"
          value={prices.draft[f]}
          disabled={prices.busy || locked}
          onChange={(e) => prices.edit(f, e.target.value)}
          aria-invalid={prices.parsed[f] === null}
          data-testid={`price-input-${f}`}
        />
        <span className="muted">{symbol} / hour</span>
        {suggestion}
      </div>
      {locked ? <LockNote text="Set by your administrator's policy: it cannot be changed here" /> : null}
    </div>
  );
}

function SuggestedPrice({ status, prices }: { status: MarketStatus; prices: Prices }) {
  const suggested = status.suggestedPricePerGpuHour;
  if (!suggested) return <span className="muted small">no suggestion yet (it comes from your GPUs' benchmark)</span>;
  return (
    <span className="market-suggest" data-testid="price-suggested">
      suggested {prices.show(suggested)} {status.tokenSymbol}
      {status.suggestionBasis ? <span className="muted small"> ({status.suggestionBasis})</span> : null}
      <button
        type="button"
        className="button button-small"
        disabled={prices.busy || prices.locked('minPricePerGpuHour')}
        onClick={() => prices.edit('minPricePerGpuHour', prices.show(suggested))}
        data-testid="price-use-suggested"
      >
        Use suggested
      </button>
    </span>
  );
}

export function PricesCard({ status, save }: { status: MarketStatus; save: (p: MarketPatch) => Promise<MarketStatus> }) {
  const prices = usePrices(status, save);
  const { busy, dirty, invalid, saved, problem } = prices;
  return (
    <div className="card market-prices" data-testid="market-prices">
      <h3>Your prices</h3>
      <p className="muted small">An offer below max(price per job-hour, GPUs × price per GPU-hour) is declined, with that reason.</p>
      <PriceInput f="minPricePerGpuHour" label="Lowest price per GPU-hour" hint="for each GPU a job uses" suggestion={<SuggestedPrice status={status} prices={prices} />} prices={prices} symbol={status.tokenSymbol} />
      <PriceInput f="minPricePerJobHour" label="Lowest price per job-hour" hint="for any job, with or without a GPU" suggestion={null} prices={prices} symbol={status.tokenSymbol} />
      <div className="market-actions">
        <button type="button" className="button button-primary" disabled={busy || !dirty || invalid.length > 0} onClick={() => void prices.submit()} data-testid="price-save">
          Save prices
        </button>
        {invalid.length ? (
          <span className="market-problem small" role="alert">
            A price is a token amount such as 0.25 (at most {status.tokenDecimals} decimals).
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
