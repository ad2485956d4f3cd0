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
import { effectiveSection, type Effective } from '../settings/effective.js';
import type { SettingsStore } from '../settings/store.js';
import { dcgmFamilies } from './dcgm.js';
import { render } from './exposition.js';
import { agentFamilies } from './families.js';
import { startListener, type Listener } from './listener.js';
import { ReclaimWatch, type ReclaimInputs } from './reclaim.js';
import { defaultMetricsSettings, type MetricsPatch, type MetricsSettings, type MetricsView } from './schema.js';
import { scrapeConfig } from './scrape-config.js';
import type { SnapshotSource } from './sources.js';
import { removeTextfile, writeTextfile } from './textfile.js';
import { ensureToken, tokenPath } from './token.js';

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
  const reclaim = new ReclaimWatch();
  let listener: Listener | null = null;
  let listening: string | null = null;
  let problem: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let reclaimTimer: NodeJS.Timeout | null = null;
  let applying: Promise<void> = Promise.resolve();
  let stopped = true;

  const effective = (): Effective<'metrics'> => effectiveSection('metrics', o.settings.section('metrics').patch, o.policy());
  const current = (): MetricsSettings => {
    const e = effective();
    return e.ok ? e.value : defaultMetricsSettings;
  };

  async function text(): Promise<string> {
    const snapshot = await o.source.collect();
    const families = [...agentFamilies(snapshot), reclaim.histogram.family()];
    if (current().dcgmCompat) families.push(...dcgmFamilies(snapshot));
    return render(families);
  }

  /** Opens, moves or closes the listener to match the settings. */
  async function applyListener(want: string | null): Promise<void> {
    if (want === listening && (want === null || listener)) return;
    await listener?.close();
    listener = null;
    listening = want;
    problem = null;
    if (want === null || stopped) return;
    try {
      listener = await startListener(want, ensureToken(o.home), text);
      o.log.info('metrics: serving /metrics', { listen: want });
    } catch (error) {
      problem = (error as Error).message;
      o.log.warn('metrics: listener failed', { error: problem });
    }
  }

  function apply(): Promise<void> {
    applying = applying.then(() => applyListener(current().listen)).catch((error: unknown) => o.log.error('metrics: apply failed', { error: (error as Error).message }));
    return applying;
  }

  /**
   * The textfile this agent wrote last: removed when the setting moves or is turned off, and when
   * the agent stops, so node_exporter never goes on exporting a state nobody updates.
   */
  let written: string | null = null;
  function removeWritten(): void {
    if (written === null) return;
    removeTextfile(written, o.log);
    written = null;
  }

  async function tick(): Promise<void> {
    await apply();
    const file = stopped ? null : current().textfile;
    if (written !== null && written !== file) removeWritten();
    if (!file) return;
    try {
      const body = await text();
      // Stopped meanwhile: the file was removed, and stays so.
      if (stopped) return;
      writeTextfile(file, body);
      written = file;
      if (problem?.startsWith('The textfile')) problem = null;
    } catch (error) {
      problem = `The textfile ${file} could not be written: ${(error as Error).message}. Check that its folder exists and the agent may write there.`;
      o.log.warn('metrics: textfile failed', { error: problem });
    }
  }

  function view(): MetricsView {
    const e = effective();
    const s = e.ok ? e.value : defaultMetricsSettings;
    const addr = listener?.address ?? null;
    const shown = addr ? (addr.host.includes(':') ? `[${addr.host}]` : addr.host) : null;
    return {
      effective: s,
      locked: e.locked,
      url: addr ? `http://${shown}:${addr.port}/metrics` : null,
      tokenFile: tokenPath(o.home),
      problem: e.ok ? problem : e.message,
      scrapeConfig: addr ? scrapeConfig(addr, tokenPath(o.home)) : null,
    };
  }

  const unsubscribeSettings = o.settings.onChange((section) => {
    if (section === 'metrics') void tick();
  });

  /** The reclaim measure looks at each state change and job update; while one is open, every 50 ms too (the running count changes without a state change while paused). */
  function watchReclaim(): void {
    reclaim.check(o.stateInputs());
    if (!reclaim.pending || reclaimTimer) return;
    reclaimTimer = setInterval(() => {
      reclaim.check(o.stateInputs());
      if (!reclaim.pending && reclaimTimer) {
        clearInterval(reclaimTimer);
        reclaimTimer = null;
      }
    }, RECLAIM_POLL_MS);
    reclaimTimer.unref();
  }
  const unsubscribeBus = o.bus.subscribe((event) => {
    if (event === 'agent.state' || event === 'job.update') watchReclaim();
  });

  return {
    handlers: {
      'metrics.config': async (patch: MetricsPatch) => {
        if (Object.keys(patch).length > 0) {
          const e = effective();
          checkSectionPatch('metrics', patch, e.ok ? e.value : defaultMetricsSettings, e, o.policy());
          o.settings.update('metrics', patch);
          await tick();
          if (problem) throw new AppError('unavailable', problem);
        }
        return view();
      },
    },
    text,
    view,
    async start() {
      stopped = false;
      await tick();
      timer = setInterval(() => void tick(), o.textfileIntervalMs ?? TEXTFILE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      unsubscribeSettings();
      unsubscribeBus();
      if (timer) clearInterval(timer);
      if (reclaimTimer) clearInterval(reclaimTimer);
      o.source.close();
      await applying;
      removeWritten();
      await listener?.close();
      listener = null;
      listening = null;
    },
  };
}
