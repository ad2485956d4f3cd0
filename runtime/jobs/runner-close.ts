// The runner's part in the agent's stop: the jobs that had not started end (their pulls
// aborted), waited for within bounds; the running ones are let go of for the next start.
import type { RunnerCore } from './core.js';
import type { StopRequest } from './outcome.js';
import { isFinalState } from './schema.js';

/** How a job that had not started yet ends when the agent stops (not a failure of the job). */
export const agentStopped: StopRequest = { state: 'cancelled', reason: 'agent-stopped', detail: 'Cancelled: the agent stopped.' };

/** close() waits this long (plus the grace period) for the jobs it ends to record their end. */
export const CLOSE_WAIT_MS = 15_000;

/**
 * The agent stops. Takes no more jobs; a job that has not started (queued, pulling: its pull is
 * aborted, starting) ends `cancelled` (agent-stopped) and one already stopping finishes its
 * stop: close() waits (at most the grace period plus CLOSE_WAIT_MS) until each has recorded its
 * end, so that the caller may close the database after it. Running and paused jobs keep
 * running: watching stops (timers, log streams) and recover() re-adopts them at the next start.
 */
export async function closeRunner(core: RunnerCore, stopping: AbortController): Promise<void> {
  core.closed = true;
  const ending = [...core.active.values()].filter((a) => a.state === 'queued' || a.state === 'pulling' || a.state === 'starting' || a.state === 'stopping');
  for (const a of ending) {
    if (a.state !== 'stopping') a.stop ??= agentStopped;
    a.pullAbort.abort();
  }
  stopping.abort();
  if (ending.length) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(ending.map((a) => a.done)), new Promise((r) => (timer = setTimeout(r, core.graceMs + CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    for (const a of ending) {
      if (isFinalState(a.state)) continue;
      if (a.state === 'stopping' || a.state === 'running' || a.state === 'paused') {
        // Its container exists: recovery finishes its stop at the next start (or re-adopts it).
        core.log.warn('job did not end in time while the agent stopped; the next start finishes it', { id: a.id, state: a.state });
        continue;
      }
      // Not started and stuck (an engine that does not answer): record the end here; recovery
      // removes whatever container the stuck call may still create.
      const stop = a.stop ?? agentStopped;
      core.log.warn('job did not end in time while the agent stopped; recorded as stopped', { id: a.id, state: a.state });
      core.transition(a, stop.state, stop.reason, `${stop.detail} The job had not started when the agent stopped (the Docker engine did not answer in time).`, { endedAt: core.now() });
      core.release(a);
    }
  }
  for (const a of core.active.values()) {
    // Running, paused, or not ended in time: let go of it (the next start re-adopts it).
    a.detach.abort();
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    if (a.killTimer) clearTimeout(a.killTimer);
    a.logStream?.destroy();
  }
  core.active.clear();
  core.engineWatch.stop();
  // Records a full disk refused: one last try before the database closes.
  await core.deferred.close();
  await core.egress.close().catch((error: unknown) => core.log.warn('egress shutdown failed', { error }));
}
