/** A job's image pull, reported: `job.progress` (at most 4 a second) and a line in its log per quarter. */
import type { PullTick } from '../images/pull.js';
import { PullProgress, type PullEvent } from '../sandbox/pull-progress.js';
import type { Active } from './active.js';
import type { RunnerCore } from './core.js';

/** The engine's own per-layer pull events (a runner without the image store), as ticks. */
export function pullReporter(core: RunnerCore, a: Active): (event: PullEvent) => void {
  const progress = new PullProgress();
  const report = reporter(core, a, false);
  return (event) => {
    const summary = progress.update(event);
    if (summary) report({ fraction: summary.fraction, detail: summary.detail });
    else if (event.status && event.current === null) core.systemLog(a, `[pull] ${event.status}\n`);
  };
}

/** The image store's pull ticks: bytes of what was missing, rate and ETA. */
export function pullTickReporter(core: RunnerCore, a: Active): (tick: PullTick) => void {
  return reporter(core, a, true);
}

function reporter(core: RunnerCore, a: Active, figures: boolean): (tick: Pick<PullTick, 'fraction' | 'detail'> & Partial<PullTick>) => void {
  let lastSent = 0;
  let lastQuarter = -1;
  return (tick) => {
    const quarter = tick.fraction === null ? -1 : Math.floor(tick.fraction * 4);
    if (quarter > lastQuarter) {
      lastQuarter = quarter;
      core.systemLog(a, `[pull] ${tick.detail}\n`);
    }
    const now = Date.now();
    if (now - lastSent < 250 && tick.fraction !== 1) return;
    lastSent = now;
    const more = figures ? { bytes: tick.bytes, totalBytes: tick.totalBytes, bytesPerSecond: tick.bytesPerSecond, etaSeconds: tick.etaSeconds } : {};
    core.options.onProgress?.({ id: a.id, phase: 'pull', fraction: tick.fraction, detail: tick.detail, ...more });
  };
}
