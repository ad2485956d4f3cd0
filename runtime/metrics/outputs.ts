// The metrics service's two outputs, kept matching the settings: the /metrics listener and the
// node_exporter textfile, with the problem either last met (shown by metrics.config).
import type { Logger } from '../log.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection, type Effective } from '../settings/effective.js';
import type { SettingsStore } from '../settings/store.js';
import { dcgmFamilies } from './dcgm.js';
import { render } from './exposition.js';
import { agentFamilies } from './families.js';
import { startListener, type Listener } from './listener.js';
import type { ReclaimWatch } from './reclaim.js';
import { defaultMetricsSettings, type MetricsSettings, type MetricsView } from './schema.js';
import { scrapeConfig } from './scrape-config.js';
import type { SnapshotSource } from './sources.js';
import { removeTextfile, writeTextfile } from './textfile.js';
import { ensureToken, tokenPath } from './token.js';

/** What the outputs read. */
export interface MetricsInputs {
  home: string;
  log: Logger;
  settings: SettingsStore;
  policy: () => LoadedPolicy;
  source: SnapshotSource;
}

/** The service's state, shared by its handlers, its timer and its subscriptions. */
export interface MetricsOutputs {
  o: MetricsInputs;
  reclaim: ReclaimWatch;
  listener: Listener | null;
  listening: string | null;
  problem: string | null;
  applying: Promise<void>;
  stopped: boolean;
  /**
   * The textfile this agent wrote last: removed when the setting moves or is turned off, and when
   * the agent stops, so node_exporter never goes on exporting a state nobody updates.
   */
  written: string | null;
}

export function effectiveMetrics(m: MetricsOutputs): Effective<'metrics'> {
  return effectiveSection('metrics', m.o.settings.section('metrics').patch, m.o.policy());
}

function currentMetrics(m: MetricsOutputs): MetricsSettings {
  const e = effectiveMetrics(m);
  return e.ok ? e.value : defaultMetricsSettings;
}

/** The text a scrape returns now. */
export async function metricsText(m: MetricsOutputs): Promise<string> {
  const snapshot = await m.o.source.collect();
  const families = [...agentFamilies(snapshot), m.reclaim.histogram.family()];
  if (currentMetrics(m).dcgmCompat) families.push(...dcgmFamilies(snapshot));
  return render(families);
}

/** Opens, moves or closes the listener to match the settings. */
async function applyListener(m: MetricsOutputs, want: string | null): Promise<void> {
  if (want === m.listening && (want === null || m.listener)) return;
  await m.listener?.close();
  m.listener = null;
  m.listening = want;
  m.problem = null;
  if (want === null || m.stopped) return;
  try {
    m.listener = await startListener(want, ensureToken(m.o.home), () => metricsText(m));
    m.o.log.info('metrics: serving /metrics', { listen: want });
  } catch (error) {
    m.problem = (error as Error).message;
    m.o.log.warn('metrics: listener failed', { error: m.problem });
  }
}

function apply(m: MetricsOutputs): Promise<void> {
  m.applying = m.applying.then(() => applyListener(m, currentMetrics(m).listen)).catch((error: unknown) => m.o.log.error('metrics: apply failed', { error: (error as Error).message }));
  return m.applying;
}

export function removeWritten(m: MetricsOutputs): void {
  if (m.written === null) return;
  removeTextfile(m.written, m.o.log);
  m.written = null;
}

/** Both outputs brought in line with the settings, and the textfile written afresh. */
export async function tick(m: MetricsOutputs): Promise<void> {
  await apply(m);
  const file = m.stopped ? null : currentMetrics(m).textfile;
  if (m.written !== null && m.written !== file) removeWritten(m);
  if (!file) return;
  try {
    const body = await metricsText(m);
    // Stopped meanwhile: the file was removed, and stays so.
    if (m.stopped) return;
    writeTextfile(file, body);
    m.written = file;
    if (m.problem?.startsWith('The textfile')) m.problem = null;
  } catch (error) {
    m.problem = `The textfile ${file} could not be written: ${(error as Error).message}. Check that its folder exists and the agent may write there.`;
    m.o.log.warn('metrics: textfile failed', { error: m.problem });
  }
}

export function metricsView(m: MetricsOutputs): MetricsView {
  const e = effectiveMetrics(m);
  const s = e.ok ? e.value : defaultMetricsSettings;
  const addr = m.listener?.address ?? null;
  const shown = addr ? (addr.host.includes(':') ? `[${addr.host}]` : addr.host) : null;
  return {
    effective: s,
    locked: e.locked,
    url: addr ? `http://${shown}:${addr.port}/metrics` : null,
    tokenFile: tokenPath(m.o.home),
    problem: e.ok ? m.problem : e.message,
    scrapeConfig: addr ? scrapeConfig(addr, tokenPath(m.o.home)) : null,
  };
}
