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
import { admit } from './admission.js';
import { RunnerCore, type RunnerOptions } from './core.js';
import { JobLifecycle } from './lifecycle.js';
import { stopReasons, type StopRequest } from './outcome.js';
import { recoverJobs, type RecoveryResult } from './recovery.js';
import { capacityOf, Reservations, type Capacity } from './reservations.js';
import { admissionContext, reserve } from './runner-admission.js';
import { closeRunner } from './runner-close.js';
import { isFinalState, type Job } from './schema.js';

export { DEFAULT_GRACE_MS, type RunnerOptions } from './core.js';
export { agentStopped, CLOSE_WAIT_MS } from './runner-close.js';

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
    const { spec, gpus, baseline, useRunsc } = await admit(input, admissionContext(core, this.reservations, files.reservation));
    const capacity = await this.capacity();
    // From here to the job's record, nothing awaits: the reservation's check and take are one step.
    // close() may have begun while the job was being admitted: take nothing more.
    if (core.closed) throw new AppError('runner-closed', 'The job runner is shutting down; try again once the agent has restarted.');
    reserve(this.reservations, spec, gpus.map((g) => g.key), capacity, files.reservation);
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
      await admit(input, admissionContext(this.core, this.reservations, reservation));
      return null;
    } catch (error) {
      return error instanceof AppError ? error : new AppError('invalid-input', (error as Error).message);
    }
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
   * The agent stops (runner-close.ts): no more jobs; those that had not started end and are
   * waited for (bounded); running and paused jobs keep running, re-adopted at the next start.
   */
  async close(): Promise<void> {
    await closeRunner(this.core, this.stopping);
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
