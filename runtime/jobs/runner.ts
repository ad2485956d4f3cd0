/**
 * The job runner: takes a job spec through queued → pulling → starting → running ⇄ paused →
 * stopping → a final state, on the real Docker engine, persisting every change (SQLite) and
 * streaming logs. The same runner serves marketplace jobs, `offshift job run` and the tests.
 *
 * Its four ideas live apart: admission (admission.ts: everything that can refuse a job, before
 * anything is created), the container's lifecycle (lifecycle.ts, with engine-restart.ts for an
 * engine that goes away mid-job), recovery after a restart (recovery.ts) and GPU health between
 * jobs (gpu-health.ts). This file is the API the agent, the CLI and the availability loop use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withAbortablePulls } from '../engine/index.js';
import { AppError } from '../errors.js';
import type { TelemetrySample } from '../gpu/schema.js';
import { stageInputs } from '../sandbox/job-files.js';
import { admit, type AdmissionContext } from './admission.js';
import { RunnerCore, type RunnerOptions } from './core.js';
import { JobLifecycle } from './lifecycle.js';
import { stopReasons, type StopRequest } from './outcome.js';
import { recoverJobs, type RecoveryResult } from './recovery.js';
import { capacityOf, describeShortfall, Reservations, type Capacity, type Need } from './reservations.js';
import { isFinalState, type Job } from './schema.js';

export { DEFAULT_GRACE_MS, type RunnerOptions } from './core.js';

/** How a job that had not started yet ends when the agent stops (not a failure of the job). */
export const agentStopped: StopRequest = { state: 'cancelled', reason: 'agent-stopped', detail: 'Cancelled: the agent stopped.' };

/** close() waits this long (plus the grace period) for the jobs it ends to record their end. */
export const CLOSE_WAIT_MS = 15_000;

export class JobRunner {
  private readonly core: RunnerCore;
  private readonly lifecycle: JobLifecycle;
  private readonly stopping = new AbortController();
  /** What jobs and accepted offers hold (reservations.ts): a job's is released when it ends. */
  readonly reservations = new Reservations();

  constructor(options: RunnerOptions) {
    this.core = new RunnerCore({ ...options, docker: withAbortablePulls(options.docker, this.stopping.signal) });
    this.lifecycle = new JobLifecycle(this.core);
    this.core.listeners.add((job) => {
      if (isFinalState(job.state)) this.reservations.release(job.id);
    });
  }

  /** Everything this machine gives jobs: leasable GPUs in service, the engine's CPUs and memory (less the owner's share), free disk. */
  async capacity(): Promise<Capacity> {
    const core = this.core;
    const [engine, gpus] = await Promise.all([core.engine(), core.options.listGpus ? core.options.listGpus() : Promise.resolve([])]);
    let freeDiskMiB = 0;
    try {
      const s = fs.statfsSync(core.options.home);
      freeDiskMiB = Math.floor((Number(s.bavail) * Number(s.bsize)) / 1024 / 1024);
    } catch {}
    return capacityOf({
      gpus,
      outOfService: new Set(core.gpuHealth.unavailable.keys()),
      cpus: engine.cpus > 0 ? engine.cpus : os.cpus().length,
      totalMemoryMiB: Math.floor((engine.memoryBytes > 0 ? engine.memoryBytes : os.totalmem()) / 1024 / 1024),
      freeDiskMiB,
    });
  }

  get agentInstance(): string {
    return this.core.policy.agentInstance;
  }

  /**
   * Validates and queues a job; resolves with its queued record once nothing can refuse it any
   * more. A bad spec, a GPU request this machine cannot serve, or a network allow-list the agent
   * cannot make safe (docs/sandbox.md) is refused here, before anything is created.
   */
  async submit(input: unknown, files: { inputs?: Record<string, string | Uint8Array>; reservation?: string } = {}): Promise<Job> {
    const core = this.core;
    if (core.closed) throw new AppError('runner-closed', 'The job runner is shutting down; try again once the agent has restarted.');
    const { spec, gpus, baseline, useRunsc } = await admit(input, this.admissionContext(files.reservation));
    const capacity = await this.capacity();
    // From here to the job's record, nothing awaits: the reservation's check and take are one step.
    // close() may have begun while the job was being admitted: take nothing more.
    if (core.closed) throw new AppError('runner-closed', 'The job runner is shutting down; try again once the agent has restarted.');
    this.reserve(spec, gpus.map((g) => g.key), capacity, files.reservation);
    let job: Job;
    let active: ReturnType<RunnerCore['track']>;
    try {
      job = core.store.insert(spec, gpus.map((g) => g.key), core.now(), 'submitted', 'Queued: waiting to start.');
      fs.mkdirSync(path.join(core.jobDir(spec.id), 'input'), { recursive: true, mode: 0o755 });
      if (files.inputs) stageInputs(path.join(core.jobDir(spec.id), 'input'), files.inputs);
      active = core.track(spec, gpus, 'queued', spec.timeoutSeconds * 1000);
    } catch (error) {
      this.reservations.release(spec.id);
      throw error;
    }
    active.gpuBaseline = baseline;
    active.useRunsc = useRunsc;
    core.emit(job);
    void this.lifecycle.run(active).catch((error: unknown) => this.lifecycle.crashed(active, error));
    return job;
  }

  /** Would submit() take this spec now (holding `reservation`)? Null, or the runner's own refusal; nothing is created (the marketplace asks before accepting an offer). */
  async check(input: unknown, reservation?: string): Promise<AppError | null> {
    try {
      await admit(input, this.admissionContext(reservation));
      return null;
    } catch (error) {
      return error instanceof AppError ? error : new AppError('invalid-input', (error as Error).message);
    }
  }

  /**
   * Takes the job's reservation (synchronously): a local job's against what is free; a
   * marketplace job's by turning its accepted offer's reservation into the job's, checked again
   * against the capacity now. Throws `no-capacity` when it does not fit.
   */
  private reserve(spec: { id: string; cpus: number; memoryMiB: number; diskMiB: number }, gpuKeys: string[], capacity: Capacity, offer: string | undefined): void {
    const need: Need = { kind: offer ? 'offer' : 'local', gpus: gpuKeys, cpus: spec.cpus, memoryMiB: spec.memoryMiB, diskMiB: spec.diskMiB };
    if (offer && !this.reservations.has(offer)) {
      throw new AppError('no-capacity', 'This job\'s accepted offer no longer holds its resources (it expired or was withdrawn), so it is not started.');
    }
    const taken = offer ? this.reservations.replace(offer, spec.id, need, capacity) : this.reservations.take(spec.id, need, capacity);
    if (!taken.ok) {
      throw new AppError(
        'no-capacity',
        `Not started: ${describeShortfall(taken.shortfall, capacity)}. Running jobs and accepted marketplace offers hold the rest; try again when one ends.`,
      );
    }
  }

  private admissionContext(reservation?: string): AdmissionContext {
    const core = this.core;
    return {
      exists: (id) => core.store.exists(id),
      networkReady: () => core.egress.ready(),
      engine: () => core.engine(),
      wantsRunsc: () => core.policy.useRunsc || core.options.sandboxSettings?.().runtime === 'gvisor',
      gpus: async () => {
        const all = core.options.listGpus ? await core.options.listGpus() : [];
        core.gpuHealth.refresh(all);
        return all;
      },
      unavailableGpus: () => {
        const busy = new Map(core.gpuHealth.unavailable);
        for (const a of core.active.values()) for (const g of a.gpus) busy.set(g.key, `in use by job ${a.id}`);
        for (const h of this.reservations.list()) if (h.id !== reservation) for (const g of h.gpuKeys) busy.set(g, `held by ${h.kind === 'offer' ? 'an accepted offer' : `job ${h.id}`}`);
        return busy;
      },
      checkNvidiaRuntime: core.options.checkNvidiaRuntime !== false,
    };
  }

  /** Resolves when the job reaches a final state. */
  async wait(id: string): Promise<Job> {
    const active = this.core.active.get(id) ?? this.core.ending.get(id);
    if (active) return active.done;
    const job = this.core.store.get(id);
    if (!job) throw notFound(id);
    return job;
  }

  async cancel(id: string, detail = 'Cancelled by the owner.'): Promise<Job> {
    return this.stopJob(id, { state: 'cancelled', reason: stopReasons.cancelled, detail });
  }

  /** Stops one job for a reason of the caller's (a marketplace job that is not paid, say). */
  async stopJob(id: string, request: StopRequest, graceMs: number = this.core.graceMs): Promise<Job> {
    const active = this.core.active.get(id);
    if (!active) {
      const job = this.core.store.get(id);
      if (!job) throw notFound(id);
      return job;
    }
    await this.lifecycle.stop(active, request, graceMs);
    return this.core.store.get(id)!;
  }

  /** Running and paused jobs end `preempted` (SIGTERM, grace, SIGKILL); resolves when all have ended. */
  async preemptAll(graceMs: number = this.core.graceMs, detail = 'Preempted: the owner needs the GPU back.'): Promise<void> {
    const all = [...this.core.active.values()];
    await Promise.all(all.map((a) => this.lifecycle.stop(a, { state: 'preempted', reason: stopReasons.preempted, detail }, graceMs)));
    await Promise.all(all.map((a) => a.done));
  }

  /** Freezes every running job (Docker pause: the cgroup freezer). */
  async pauseAll(detail = 'Paused: the owner is using this machine.'): Promise<void> {
    this.core.held = detail;
    await Promise.all([...this.core.active.values()].filter((a) => a.state === 'running').map((a) => this.lifecycle.pause(a, detail)));
  }

  async resumeAll(detail = 'Resumed.'): Promise<void> {
    this.core.held = null;
    await Promise.all([...this.core.active.values()].filter((a) => a.state === 'paused').map((a) => this.lifecycle.resume(a, detail)));
  }

  /** The images of the jobs in hand (queued to stopping, paused too): the image store never removes them. */
  imagesInUse(): string[] {
    return [...this.core.active.values(), ...this.core.ending.values()].map((a) => a.spec.image);
  }

  /** Jobs in hand and not paused (queued to stopping). */
  runningCount(): number {
    return [...this.core.active.values()].filter((a) => a.state !== 'paused' && !isFinalState(a.state)).length;
  }

  onChange(listener: (job: Job) => void): () => void {
    this.core.listeners.add(listener);
    return () => this.core.listeners.delete(listener);
  }

  list(limit?: number): Job[] {
    return this.core.store.list(limit);
  }

  get(id: string): Job | null {
    return this.core.store.get(id);
  }

  events(id: string) {
    return this.core.store.events(id);
  }

  /** The kept log (up to the cap, with the dropped-bytes marker once the job has ended). */
  logs(id: string): { id: string; text: string; droppedBytes: number } {
    const job = this.core.store.get(id);
    if (!job) throw notFound(id);
    let text: string;
    try {
      text = fs.readFileSync(this.core.logFile(id), 'utf8');
    } catch {
      text = job.logTail;
    }
    const active = this.core.active.get(id);
    return { id, text, droppedBytes: active ? active.log.dropped : job.logDroppedBytes };
  }

  /** GPUs taken out of service after a job left memory on them, with the reason. */
  gpusOutOfService(): ReadonlyMap<string, string> {
    return this.core.gpuHealth.unavailable;
  }

  /** Telemetry from the GPU service: metered into the jobs running on those GPUs. */
  feedTelemetry(samples: readonly TelemetrySample[]): void {
    for (const a of this.core.active.values()) if (a.meter) for (const s of samples) a.meter.sample(s);
  }

  /** After a restart: re-adopts, finishes, removes and closes what the last run left (recovery.ts). */
  async recover(): Promise<RecoveryResult> {
    const result = await recoverJobs(this.core, this.lifecycle);
    // Jobs re-adopted hold what they use, without a check: they run already.
    for (const a of this.core.active.values()) {
      if (!this.reservations.has(a.id)) this.reservations.hold(a.id, { kind: a.spec.marketJobId ? 'offer' : 'local', gpus: a.gpus.map((g) => g.key), cpus: a.spec.cpus, memoryMiB: a.spec.memoryMiB, diskMiB: a.spec.diskMiB });
    }
    return result;
  }

  /**
   * The agent stops. Takes no more jobs; a job that has not started (queued, pulling: its pull is
   * aborted, starting) ends `cancelled` (agent-stopped) and one already stopping finishes its
   * stop: close() waits (at most the grace period plus CLOSE_WAIT_MS) until each has recorded its
   * end, so that the caller may close the database after it. Running and paused jobs keep
   * running: watching stops (timers, log streams) and recover() re-adopts them at the next start.
   */
  async close(): Promise<void> {
    const core = this.core;
    core.closed = true;
    const ending = [...core.active.values()].filter((a) => a.state === 'queued' || a.state === 'pulling' || a.state === 'starting' || a.state === 'stopping');
    for (const a of ending) {
      if (a.state !== 'stopping') a.stop ??= agentStopped;
      a.pullAbort.abort();
    }
    this.stopping.abort();
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

  /**
   * After a job: takes out of service each of its GPUs where a process that was not there
   * before the job still holds memory (nvidia-smi's process list, via the GPU service).
   */
  async checkGpusAfterJob(gpuKeys: readonly string[], baseline: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    await this.core.gpuHealth.checkAfterJob(gpuKeys, baseline);
  }
}

function notFound(id: string): AppError {
  return new AppError('not-found', `There is no job "${id}". \`offshift job list\` shows the jobs this agent knows.`);
}
