/**
 * The market link brought in line with the settings, one change at a time: no market, a real one
 * (its URL checked), or the demo network; the wallet made ready; the provider (re)started.
 */
import { VERSION } from '../version.js';
import type { MoneyService } from '../wallet/money.js';
import { checkMarketUrl, type LinkState } from './connection.js';
import { marketAvailability, marketSettings, type MarketCore, type MarketTarget } from './service-core.js';
import { marketChanged, setLink } from './service-status.js';
import { readyWallet } from './service-wallet.js';

/** Queues a reconcile after the one running; resolves when it is done (its failure logged). */
export function scheduleReconcile(c: MarketCore): Promise<void> {
  c.reconciling = c.reconciling.then(() => reconcile(c)).catch((error: unknown) => c.o.log.error('marketplace reconcile failed', { error: (error as Error).message }));
  return c.reconciling;
}

export async function stopProvider(c: MarketCore): Promise<void> {
  const p = c.provider;
  c.provider = null;
  if (p) await p.stop();
}

async function reconcile(c: MarketCore): Promise<void> {
  const o = c.o;
  if (c.stopped) return;
  if (c.retryTimer) clearTimeout(c.retryTimer);
  c.retryTimer = null;
  const s = marketSettings(c);
  const next: MarketTarget = !s.enabled ? { network: 'off', url: null } : s.url ? { network: 'real', url: s.url } : s.demo && o.demo ? { network: 'demo', url: null } : { network: 'off', url: null };
  if (next.network === 'off') {
    await stopProvider(c);
    c.target = next;
    setLink(c, 'off', !s.enabled ? 'The marketplace is switched off. Turn it on in the Marketplace page, or `offshift market config --url URL`.' : 'No market is set: give a market URL in the Marketplace page (or `offshift market config --url URL`).');
    return;
  }
  if (next.network === 'real') {
    await o.demo?.stop(); // a real market now: the demo network this agent started (in-app or detached) ends
    const checked = checkMarketUrl(next.url!, s.allowInsecure);
    if (!checked.ok) {
      await stopProvider(c);
      c.target = next;
      setLink(c, 'refused', checked.reason);
      return;
    }
  }
  if (next.network === 'demo' && !(await demoUp(c, next))) return;
  let money: MoneyService;
  try {
    money = await o.money.load();
  } catch (error) {
    setLink(c, 'refused', `The wallet could not load: ${(error as Error).message}`);
    return;
  }
  if (!(await readyWallet(c, money, next.network === 'demo'))) {
    await stopProvider(c);
    c.target = next;
    return;
  }
  try {
    money.wallet.network();
  } catch (error) {
    await stopProvider(c);
    c.target = next;
    setLink(c, 'refused', `${(error as Error).message} The market pays through that network's escrow.`);
    return;
  }
  if (c.provider && c.provider.url === next.url && c.target.network === next.network) return;
  await stopProvider(c);
  c.target = next;
  await startProvider(c, next.url!, money);
}

/** Starts (or finds) the demo network and sets the target's URL; false, with a retry in 30 s, when it cannot start. */
async function demoUp(c: MarketCore, next: MarketTarget): Promise<boolean> {
  if (!(c.target.network === 'demo' && c.provider)) setLink(c, 'starting-demo', 'Starting the demo network on this computer: a local chain, the reference market and a demo buyer…');
  try {
    next.url = await c.o.demo!.up();
    return true;
  } catch (error) {
    await stopProvider(c);
    c.target = { network: 'demo', url: null };
    setLink(c, 'refused', `The demo network could not start: ${(error as Error).message}`, c.now() + 30_000);
    c.retryTimer = setTimeout(() => void scheduleReconcile(c), 30_000);
    c.retryTimer.unref?.();
    return false;
  }
}

async function startProvider(c: MarketCore, url: string, money: MoneyService): Promise<void> {
  const o = c.o;
  const { MarketProvider } = await import('./provider.js');
  c.provider = new MarketProvider(url, {
    home: o.home,
    db: money.db,
    log: o.log,
    runner: o.runner,
    images: o.images,
    money,
    agent: `offshift/${VERSION}`,
    listGpus: o.listGpus,
    settings: () => marketSettings(c),
    availability: () => marketAvailability(c),
    scores: o.scores ?? (async () => new Map()),
    onLink: (state: LinkState, reason, nextRetryAt) => setLink(c, state === 'closed' ? 'off' : state, reason, nextRetryAt),
    onChange: () => marketChanged(c),
    backoff: o.backoff,
    now: c.now,
  });
  c.provider.start();
}
