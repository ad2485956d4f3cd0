/**
 * When the Docker engine goes away mid-job (restarted, upgraded, crashed), the job's container
 * is stopped by the engine, not by the job or the owner. The rule (docs/sandbox.md):
 *   - noticed by the wait on the container breaking off, or by the engine's event stream
 *     breaking within 15 s of the container's exit (engine-watch.ts), with no stop asked for
 *     and an exit other than 0 (a job that exited 0 finished its work);
 *   - the runner waits for the engine to answer again (60 s by default);
 *   - a container still running (a live-restore engine) is followed again;
 *   - otherwise a job that had run less than 5 minutes, was not retried for this before and is
 *     not a marketplace job runs once more from the start (`queued`, reason `engine-restarted`);
 *   - any other ends `cancelled`, reason `engine-restarted`: it blames neither the job (its
 *     buyer) nor the owner (the provider).
 */
import type { Active } from './active.js';
import type { RunnerCore } from './core.js';
import { ranMsFromEvents } from './store.js';

export const ENGINE_RESTART_RETRY_MAX_RUN_MS = 5 * 60_000;
/** A job killed by a signal is given this long for the event stream to report the engine's loss. */
const SIGNAL_SETTLE_MS = 1500;

export type ContainerStatus = 'running' | 'exited' | 'gone' | 'unreachable';
export type EngineRestartDecision = 'normal' | 'still-running' | 'retry' | 'engine-ended';

export async function engineRestartDecision(
  core: RunnerCore,
  a: Active,
  status: ContainerStatus,
  exit: { exitCode: number | null; finishedAt: number | null },
  reinspect: () => Promise<ContainerStatus>,
): Promise<EngineRestartDecision> {
  // A stop the runner asked for explains the end; a job that exited 0 finished its work.
  if (a.stop || (status === 'exited' && exit.exitCode === 0)) return 'normal';
  const watch = core.engineWatch;
  if (status === 'unreachable') watch.lost();
  const at = exit.finishedAt ?? core.now();
  let lost = status === 'unreachable' || watch.lostAround(at, a.followedSince);
  if (!lost && status === 'exited' && exit.exitCode !== null && exit.exitCode > 128) {
    await new Promise((r) => setTimeout(r, SIGNAL_SETTLE_MS));
    lost = watch.lostAround(at, a.followedSince);
  }
  if (!lost) return 'normal';
  core.log.warn('the Docker engine went away while a job ran', { id: a.id, status });
  if (!(await watch.back(core.engineBackTimeoutMs))) return 'engine-ended';
  const now = await reinspect();
  if (now === 'running') return 'still-running';
  if (now === 'unreachable') return 'engine-ended';
  const events = core.store.events(a.id);
  const retriedBefore = events.some((e) => e.reason === 'engine-restarted');
  const ranMs = ranMsFromEvents(events, core.now());
  if (!a.spec.marketJobId && !retriedBefore && ranMs < ENGINE_RESTART_RETRY_MAX_RUN_MS) return 'retry';
  return 'engine-ended';
}
