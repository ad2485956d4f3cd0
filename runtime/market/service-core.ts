/**
 * The marketplace service's shared state (the provider, its link and target, the timers) and what
 * reads it without changing it: the effective settings and whether this computer may take work now.
 */
import { effectiveSection } from '../settings/effective.js';
import type { MarketProvider } from './provider.js';
import type { ConnectionState, MarketStatus } from './schema.js';
import type { MarketServiceOptions } from './service-options.js';
import { defaultMarketSettings, type MarketSettings } from './settings.js';
import { secondsLeftInWindow } from './window.js';

export interface MarketLink {
  state: ConnectionState;
  reason: string;
  since: number;
  nextRetryAt: number | null;
}

export interface MarketTarget {
  network: MarketStatus['network'];
  url: string | null;
}

/** The state the factory's parts share (service.ts makes one). */
export interface MarketCore {
  readonly o: MarketServiceOptions;
  readonly now: () => number;
  provider: MarketProvider | null;
  link: MarketLink;
  target: MarketTarget;
  reconciling: Promise<void>;
  stopped: boolean;
  retryTimer: NodeJS.Timeout | null;
  updateTimer: NodeJS.Timeout | null;
}

export function createMarketCore(o: MarketServiceOptions): MarketCore {
  const now = o.now ?? Date.now;
  return {
    o,
    now,
    provider: null,
    link: { state: 'off', reason: 'Starting…', since: now(), nextRetryAt: null },
    target: { network: 'off', url: null },
    reconciling: Promise.resolve(),
    stopped: false,
    retryTimer: null,
    updateTimer: null,
  };
}

export function effectiveMarket(c: MarketCore) {
  return effectiveSection('market', c.o.schedule.settings.section('market').patch, c.o.schedule.policy.current);
}

export function marketSettings(c: MarketCore): MarketSettings {
  const e = effectiveMarket(c);
  return e.ok ? e.value : defaultMarketSettings;
}

/** Whether the provider may take work now, the state and detail it advertises, and the schedule's seconds left. */
export function marketAvailability(c: MarketCore) {
  const { value, snapshot } = c.o.agentState();
  const view = c.o.schedule.view();
  const windowSecondsLeft = secondsLeftInWindow(new Date(c.now()), view.timezone, view.effective, marketSettings(c).maxJobSeconds);
  if (snapshot.fatal) return { run: false, state: 'error' as const, detail: snapshot.fatal.detail, windowSecondsLeft };
  if (snapshot.manualPause) return { run: false, state: 'paused' as const, detail: snapshot.manualPause.detail, windowSecondsLeft };
  if (snapshot.availability && !snapshot.availability.run) return { run: false, state: 'paused' as const, detail: snapshot.availability.detail, windowSecondsLeft };
  if (!snapshot.started) return { run: false, state: 'starting' as const, detail: value.detail, windowSecondsLeft };
  const detail = snapshot.gpuCount === 0 ? 'Available for CPU-only jobs (no GPU found).' : value.state === 'error' ? 'Available.' : value.detail;
  return { run: true, state: snapshot.runningJobs > 0 ? ('working' as const) : ('available' as const), detail, windowSecondsLeft };
}
