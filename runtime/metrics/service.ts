/**
 * The metrics service: serves the snapshot as Prometheus text on the listener the settings name
 * (none by default), writes the node_exporter textfile every 15 s, and measures reclaim latency.
 * Settings changes, and the admin's policy, are applied at once and re-checked every 15 s.
 */
import type { Handler } from '../api/contract.js';
import type { EventBus } from '../api/events.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { checkSectionPatch } from '../settings/check-patch.js';
import type { SettingsStore } from '../settings/store.js';
import { effectiveMetrics, metricsText, metricsView, removeWritten, tick, type MetricsOutputs } from './outputs.js';
import { ReclaimWatch, type ReclaimInputs } from './reclaim.js';
import { defaultMetricsSettings, type MetricsPatch, type MetricsView } from './schema.js';
import type { SnapshotSource } from './sources.js';

/** About a scrape interval: the textfile is as fresh as a 15 s scrape would be. */
export const TEXTFILE_INTERVAL_MS = 15_000;
const RECLAIM_POLL_MS = 50;

export interface MetricsService {
  handlers: { 'metrics.config': Handler<'metrics.config'> };
  /** The text a scrape returns now. */
  text(): Promise<string>;
  view(): MetricsView;
  /** Applies the settings (listener, textfile) and starts the timers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createMetricsService(o: {
  home: string;
  log: Logger;
  settings: SettingsStore;
  policy: () => LoadedPolicy;
  bus: EventBus;
  source: SnapshotSource;
  stateInputs: () => ReclaimInputs;
  textfileIntervalMs?: number;
}): MetricsService {
  const m: MetricsOutputs = { o, reclaim: new ReclaimWatch(), listener: null, listening: null, problem: null, applying: Promise.resolve(), stopped: true, written: null };
  let timer: NodeJS.Timeout | null = null;
  const unsubscribeSettings = o.settings.onChange((section) => {
    if (section === 'metrics') void tick(m);
  });
  const reclaim = reclaimPoll(m.reclaim, o.stateInputs);
  const unsubscribeBus = o.bus.subscribe((event) => {
    if (event === 'agent.state' || event === 'job.update') reclaim.watch();
  });

  return {
    handlers: {
      'metrics.config': async (patch: MetricsPatch) => {
        if (Object.keys(patch).length > 0) {
          const e = effectiveMetrics(m);
          checkSectionPatch('metrics', patch, e.ok ? e.value : defaultMetricsSettings, e, o.policy());
          o.settings.update('metrics', patch);
          await tick(m);
          if (m.problem) throw new AppError('unavailable', m.problem);
        }
        return metricsView(m);
      },
    },
    text: () => metricsText(m),
    view: () => metricsView(m),
    async start() {
      m.stopped = false;
      await tick(m);
      timer = setInterval(() => void tick(m), o.textfileIntervalMs ?? TEXTFILE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      m.stopped = true;
      unsubscribeSettings();
      unsubscribeBus();
      if (timer) clearInterval(timer);
      reclaim.stop();
      o.source.close();
      await m.applying;
      removeWritten(m);
      await m.listener?.close();
      m.listener = null;
      m.listening = null;
    },
  };
}

/** The reclaim measure looks at each state change and job update; while one is open, every 50 ms too (the running count changes without a state change while paused). */
function reclaimPoll(reclaim: ReclaimWatch, stateInputs: () => ReclaimInputs): { watch(): void; stop(): void } {
  let reclaimTimer: NodeJS.Timeout | null = null;
  return {
    watch() {
      reclaim.check(stateInputs());
      if (!reclaim.pending || reclaimTimer) return;
      reclaimTimer = setInterval(() => {
        reclaim.check(stateInputs());
        if (!reclaim.pending && reclaimTimer) {
          clearInterval(reclaimTimer);
          reclaimTimer = null;
        }
      }, RECLAIM_POLL_MS);
      reclaimTimer.unref();
    },
    stop() {
      if (reclaimTimer) clearInterval(reclaimTimer);
    },
  };
}
