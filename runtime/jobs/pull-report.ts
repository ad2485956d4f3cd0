/** A job's image pull, reported: `job.progress` (throttled) and a line in its log per quarter. */
import type { PullTick } from '../images/pull.js';
import { PullProgress, type PullEvent } from '../sandbox/pull-progress.js';
import type { Active } from './active.js';
import type { RunnerCore } from './core.js';

/** Turns the engine's per-layer pull events into `job.progress` (throttled) and a log line per quarter. */
export function pullReporter(core: RunnerCore, a: Active): (event: PullEvent) => void {
  const progress = new PullProgress();
  let lastSent = 0;
  let lastQuarter = -1;
  return (event) => {
    const summary = progress.update(event);
    if (!summary) {
      if (event.status && event.current === null) core.systemLog(a, `[pull] ${event.status}\n`);
      return;
    }
    const now = Date.now();
    const quarter = summary.fraction === null ? -1 : Math.floor(summary.fraction * 4);
    if (quarter > lastQuarter) {
      lastQuarter = quarter;
      core.systemLog(a, `[pull] ${summary.detail}\n`);
    }
    if (now - lastSent >= 250 || summary.fraction === 1) {
      lastSent = now;
      core.options.onProgress?.({ id: a.id, phase: 'pull', fraction: summary.fraction, detail: summary.detail });
    }
  };
}

/** The image store's pull ticks (bytes of what was missing, rate, ETA) as `job.progress` (at most 4 a second) and a log line per quarter. */
export function pullTickReporter(core: RunnerCore, a: Active): (tick: PullTick) => void {
  let lastSent = 0;
  let lastQuarter = -1;
  return (tick) => {
    const now = Date.now();
    const quarter = tick.fraction === null ? -1 : Math.floor(tick.fraction * 4);
    if (quarter > lastQuarter) {
      lastQuarter = quarter;
      core.systemLog(a, `[pull] ${tick.detail}\n`);
    }
    if (now - lastSent >= 250 || tick.fraction === 1) {
      lastSent = now;
      core.options.onProgress?.({ id: a.id, phase: 'pull', fraction: tick.fraction, detail: tick.detail, bytes: tick.bytes, totalBytes: tick.totalBytes, bytesPerSecond: tick.bytesPerSecond, etaSeconds: tick.etaSeconds });
    }
  };
}
