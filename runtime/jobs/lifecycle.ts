/**
 * A job's container, from creation to removal: pull, create, start, logs, maximum duration,
 * pause and resume, stop (SIGTERM, grace, SIGKILL), and the end recorded from the engine. When
 * the engine itself goes away mid-job, the end is the engine's, not the job's (engine-restart.ts).
 */
import { AppError } from '../errors.js';
import { containerById, isContainerGone, resolveImage, type EngineContainer } from '../engine/index.js';
import type { Active } from './active.js';
import { createJobContainer } from './container-create.js';
import { ContainerExit } from './container-exit.js';
import type { RunnerCore } from './core.js';
import { engineRestartDecision } from './engine-restart.js';
import { catchUpLogs, followLogs } from './log-follow.js';
import { collectOutput } from './output-collect.js';
import { pullReporter, pullTickReporter } from './pull-report.js';
import { UsageMeter } from './metering.js';
import { decideOutcome, stopReasons, type StopRequest } from './outcome.js';
import { isFinalState, LOCAL_ID } from './schema.js';

export class JobLifecycle {
  constructor(private readonly core: RunnerCore) {}

  private get docker() {
    return this.core.options.docker;
  }

  /** The job's container on the engine (once created). */
  private container(a: Active): EngineContainer {
    return containerById(this.docker, a.containerId!);
  }

  async run(a: Active): Promise<void> {
    const { core, docker } = this;
    try {
      core.transition(a, 'pulling', 'image', `Checking the image ${a.spec.image}.`);
      const imageId = await this.image(a);
      if (a.stop) return await this.endBeforeStart(a);
      core.transition(a, 'starting', 'creating', 'Creating the hardened container.');
      const { container, output } = await createJobContainer(core, a, imageId);
      // The output's keeper holds its volume before the job may run (and end).
      if (output && 'ready' in output) await output.ready;
      if (a.stop) {
        await container.remove();
        return await this.endBeforeStart(a);
      }
      try {
        await container.start();
      } catch (error) {
        // A failed start leaves a "Created" container behind: remove it.
        await container.remove();
        const message = error instanceof Error ? error.message.replace(/^\(HTTP code \d+\) [a-z ]+- /, '') : String(error);
        core.transition(a, 'failed', 'start-failed', `The container could not start: ${message.trim()}`, { endedAt: core.now(), containerId: null });
        return core.release(a);
      }
      const startedAt = core.now();
      a.meter = new UsageMeter(startedAt, a.gpus.map((g) => g.key));
      a.meter.running(startedAt);
      a.runningSince = startedAt;
      a.followedSince = startedAt;
      this.attachLogs(a);
      core.transition(a, 'running', 'started', 'Running.', { startedAt });
      this.armTimeout(a);
      if (a.stop) void this.stop(a, a.stop, a.stopGraceMs);
      else if (core.held !== null) await this.pause(a, core.held).catch(() => {});
      await this.finishWhenExited(a);
    } catch (error) {
      // Let go while the agent stopped: the container is the next start's, never removed here.
      if (a.detach.signal.aborted) throw error;
      const appError = error instanceof AppError ? error : null;
      if (a.containerId) await containerById(docker, a.containerId).remove();
      if (a.stop && !a.containerId) return await this.endBeforeStart(a);
      core.transition(a, 'failed', appError?.code ?? 'internal-error', appError?.message ?? `The agent failed to run the job: ${error instanceof Error ? error.message : String(error)}`, {
        endedAt: core.now(),
      });
      core.release(a);
    }
  }

  /**
   * run() (or a re-adopted job's wait) threw: a bug or a part that failed in a way nothing above
   * handles. The job is never left `running` with nothing watching it: its container is removed,
   * its end recorded with what it ran, and the runner lets go of it.
   */
  async crashed(a: Active, error: unknown): Promise<void> {
    const { core } = this;
    // After close() (past its wait, or a job left running): the next start records the end.
    if (core.closed || a.detach.signal.aborted) {
      core.log.warn('job run cut short by the agent stopping; the next start records its end', { id: a.id, error });
      return;
    }
    core.log.error('job run crashed', { id: a.id, error });
    try {
      if (!isFinalState(a.state)) {
        if (a.containerId) await this.container(a).remove();
        const endedAt = core.now();
        const usage = a.meter?.finish(endedAt);
        const ran = usage && usage.runMs > 0 ? ` It ran ${(usage.runMs / 1000).toFixed(1)} s.` : '';
        const message = error instanceof Error ? error.message : String(error);
        core.transition(a, 'failed', 'agent-error', `The agent failed while handling this job (${message.slice(0, 300)}) and stopped it.${ran} Please report this.`, {
          endedAt,
          containerId: null,
          ...(usage ? { usage } : {}),
          logTail: a.log.tailText,
        });
      }
      if (core.active.get(a.id) === a) core.release(a);
    } catch (again) {
      core.log.error('recording the end of a crashed job run failed', { id: a.id, error: again });
    }
  }

  /** Only here, where its container never started, does a record say that a stopped job did not run. */
  private async endBeforeStart(a: Active): Promise<void> {
    const stop = a.stop!;
    this.core.transition(a, stop.state, stop.reason, `${stop.detail.replace(/\.$/, '')}; the job did not run (stopped before it started).`, { endedAt: this.core.now(), containerId: null });
    this.core.release(a);
  }

  attachLogs(a: Active): void {
    followLogs(this.core, a, this.container(a));
  }

  armTimeout(a: Active): void {
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = setTimeout(() => {
      void this.stop(a, { state: 'timed-out', reason: stopReasons['timed-out'], detail: `Stopped: the job reached its maximum duration of ${a.spec.timeoutSeconds} s.` }, this.core.graceMs);
    }, a.remainingMs);
    a.timeoutTimer.unref?.();
  }

  async pause(a: Active, detail: string): Promise<void> {
    if (a.state !== 'running' || !a.containerId) return;
    await this.container(a).pause();
    const now = this.core.now();
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = null;
    if (a.runningSince !== null) a.remainingMs = Math.max(0, a.remainingMs - (now - a.runningSince));
    a.runningSince = null;
    a.meter?.paused(now);
    this.core.transition(a, 'paused', 'paused', detail);
  }

  async resume(a: Active, detail: string): Promise<void> {
    if (a.state !== 'paused' || !a.containerId) return;
    await this.container(a).unpause();
    const now = this.core.now();
    a.runningSince = now;
    a.meter?.running(now);
    this.core.transition(a, 'running', 'resumed', detail);
    this.armTimeout(a);
  }

  /** The engine image id for the job: through the image store (budget, shared pulls) for a digest, directly for a local id. */
  private async image(a: Active): Promise<string> {
    const images = this.core.options.images;
    if (!images || LOCAL_ID.test(a.spec.image)) return resolveImage(this.docker, a.spec.image, pullReporter(this.core, a));
    // Stopped while pulling, this throws; run() ends the job as its stop says, not as a failed pull.
    return images.obtain(a.spec.image, a.id, pullTickReporter(this.core, a), a.pullAbort.signal);
  }

  /** SIGTERM, the grace period, then SIGKILL. Before the container exists, the run just ends. */
  async stop(a: Active, request: StopRequest, graceMs: number): Promise<void> {
    if (isFinalState(a.state)) return;
    if (a.stop && a.state === 'stopping') return; // already on its way out
    a.stop ??= request;
    if (a.state === 'pulling') a.pullAbort.abort();
    a.stopGraceMs = graceMs;
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = null;
    if (a.state !== 'running' && a.state !== 'paused') return; // run() notices a.stop
    const container = this.container(a);
    const wasPaused = a.state === 'paused';
    this.core.transition(a, 'stopping', a.stop.reason, `${a.stop.detail} Stopping (SIGTERM, then SIGKILL after ${graceMs} ms).`);
    const kill = () => container.signal('SIGKILL').catch(() => {});
    try {
      if (wasPaused) {
        // A frozen process cannot handle SIGTERM: thaw it first.
        await container.unpause().catch(() => {});
        a.meter?.running(this.core.now());
      }
      if (graceMs <= 0) await kill();
      else {
        await container.signal('SIGTERM');
        a.killTimer = setTimeout(() => void kill(), graceMs);
      }
    } catch {
      // Already gone: finishWhenExited records it.
    }
  }

  async finishWhenExited(a: Active): Promise<void> {
    const container = this.container(a);
    try {
      await container.waitExit(a.detach.signal);
    } catch (error) {
      if (a.detach.signal.aborted) return;
      // The container vanished (removed from outside: 404), or the engine went away.
      if (!isContainerGone(error)) this.core.engineWatch.lost();
    }
    // The agent is stopping: the container, exited or not, is the next start's (recovery).
    if (a.detach.signal.aborted) return;
    await this.finish(a);
  }

  /** Records the final state from the engine, removes the container, checks the GPUs. */
  async finish(a: Active): Promise<void> {
    const { core } = this;
    if (a.killTimer) clearTimeout(a.killTimer);
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    const container = this.container(a);
    const exit = new ContainerExit(container);
    let status = await exit.inspect();
    // The engine went away (or is going): the end may be the engine's, not the job's.
    const decision = await engineRestartDecision(core, a, status, { exitCode: exit.exitCode, finishedAt: exit.finishedAt }, async () => (status = await exit.inspect()));
    if (decision === 'still-running') {
      // A live-restore engine kept the container: follow it again.
      a.log.replayFromStart();
      this.attachLogs(a);
      return this.finishWhenExited(a);
    }
    // Let the log stream drain (it ends when the container does), then read what it missed.
    await Promise.race([a.logDone, new Promise((r) => setTimeout(r, 2000))]);
    a.logStream?.destroy();
    if (exit.exists) await catchUpLogs(this.core, a, this.container(a));
    // The agent began stopping meanwhile: record nothing half-way; recovery finds the exited container.
    if (a.detach.signal.aborted) return;
    if (decision === 'retry') return this.retry(a);
    a.log.close();
    const endedAt = exit.finishedAt && exit.finishedAt <= core.now() ? exit.finishedAt : core.now();
    const outcome = decision === 'engine-ended' ? engineEnded(a, core.engineBackTimeoutMs, status === 'unreachable') : decideOutcome({ stop: a.stop, exitCode: exit.exitCode, oomKilled: exit.oomKilled });
    const usage = (a.meter ?? new UsageMeter(endedAt, a.gpus.map((g) => g.key))).finish(endedAt);
    // A stopped job's record says how long it ran: its container started, whatever the stop's reason says.
    const detail = a.stop && decision !== 'engine-ended' ? `${outcome.detail} It ran ${(usage.runMs / 1000).toFixed(1)} s before it was stopped.` : outcome.detail;
    core.transition(a, outcome.state, outcome.reason, detail, {
      endedAt,
      exitCode: exit.exitCode,
      oomKilled: exit.oomKilled,
      usage,
      logTail: a.log.tailText,
      logDroppedBytes: a.log.dropped,
    });
    // The job has exited: its output is read back while its container is removed.
    await Promise.all([container.remove(), a.spec.outputMiB > 0 ? collectOutput(core, a) : null]);
    await core.gpuHealth.checkAfterJob(a.gpus.map((g) => g.key), a.gpuBaseline);
    core.release(a);
  }

  /** The engine restarted under a young job: once more from the start, same id, fresh container. */
  private async retry(a: Active): Promise<void> {
    const { core } = this;
    await this.container(a).remove();
    if (a.egressIp) core.egress.release(a.egressIp);
    if (a.spec.outputMiB > 0) await core.outputs.discard(a.id).catch(() => {});
    a.egressIp = null;
    a.containerId = null;
    a.meter = null;
    a.runningSince = null;
    a.remainingMs = a.spec.timeoutSeconds * 1000;
    const line = '[offshift] the Docker engine restarted while this job ran; it starts again from the beginning.\n';
    a.log.write(Buffer.from(line));
    core.systemLog(a, line);
    core.transition(a, 'queued', 'engine-restarted', 'The Docker engine restarted while this job ran; retrying it once from the start.', { containerId: null });
    await this.run(a);
  }
}

function engineEnded(a: Active, backTimeoutMs: number, unreachable: boolean) {
  return {
    state: 'cancelled' as const,
    reason: 'engine-restarted',
    detail: unreachable
      ? `The Docker engine went away while this job ran and did not come back within ${Math.round(backTimeoutMs / 1000)} s; the job did not fail on its own and its outcome is unknown.`
      : `The Docker engine restarted while this job ran and stopped it; the job did not fail on its own (neither the job nor this machine's owner ended it).${a.spec.marketJobId ? ' Marketplace jobs are not retried here: the marketplace decides with the buyer.' : ' It was not retried (see docs/sandbox.md for when a job is).'}`,
  };
}
