/**
 * The marketplace capability in the agent: picks the market (a real one from the settings, or
 * the demo network on this computer), gets the wallet ready (identity is the wallet: unlock it
 * from a password file, the demo wallet's own, or wait for the owner), runs the MarketProvider,
 * and answers market.status / market.settings with the state and its reason.
 */
import type { Handlers } from '../api/contract.js';
import type { JobProgressEvent } from '../jobs/schema.js';
import type { MarketProvider } from './provider.js';
import type { MarketStatus } from './schema.js';
import { createMarketCore, effectiveMarket } from './service-core.js';
import type { MarketServiceOptions } from './service-options.js';
import { scheduleReconcile, stopProvider } from './service-reconcile.js';
import { marketStatus } from './service-status.js';
import type { MarketPatch } from './settings.js';
import { checkMarketPatch } from './settings-check.js';

export type { MarketServiceOptions } from './service-options.js';

export type MarketHandlers = Pick<Handlers, 'market.status' | 'market.settings'>;

export interface MarketService {
  readonly handlers: MarketHandlers;
  status(): Promise<MarketStatus>;
  /** The provider while one runs (tests). */
  provider(): MarketProvider | null;
  start(): void;
  stop(): Promise<void>;
}

export function createMarketService(o: MarketServiceOptions): MarketService {
  const settingsStore = o.schedule.settings;
  const c = createMarketCore(o);
  const status = () => marketStatus(c);
  const schedule = () => scheduleReconcile(c);

  function setSettings(patch: MarketPatch): void {
    checkMarketPatch(patch, effectiveMarket(c), o.schedule.policy.current);
    settingsStore.update('market', patch);
  }

  const handlers: MarketHandlers = {
    'market.status': async () => status(),
    'market.settings': async (patch) => {
      if (Object.keys(patch).length > 0) {
        setSettings(patch);
        await schedule();
      }
      return status();
    },
  };

  let unsubscribeBus: (() => void) | null = null;
  let unsubscribeSettings: (() => void) | null = null;

  return {
    handlers,
    status,
    provider: () => c.provider,
    start() {
      unsubscribeBus = o.bus.subscribe((event, payload) => {
        if (event === 'agent.state') c.provider?.advertiseSoon();
        else if (event === 'job.progress') c.provider?.pullProgress(payload as JobProgressEvent);
        else if (event === 'wallet.update') {
          const reason = (payload as { reason: string }).reason;
          if (reason === 'unlocked' || reason === 'created' || reason === 'imported' || reason === 'locked' || reason === 'settings') void schedule();
        }
      });
      unsubscribeSettings = settingsStore.onChange((section) => {
        if (section === 'market') void schedule();
        else c.provider?.advertiseSoon();
      });
      void schedule();
    },
    async stop() {
      c.stopped = true;
      unsubscribeBus?.();
      unsubscribeSettings?.();
      if (c.retryTimer) clearTimeout(c.retryTimer);
      if (c.updateTimer) clearTimeout(c.updateTimer);
      await c.reconciling;
      await stopProvider(c);
      await o.demo?.stop();
    },
  };
}
