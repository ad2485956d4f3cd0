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
import path from 'node:path';
import { AppError } from '../api/errors.js';
import type { TelemetrySample } from '../gpu/schema.js';
import { stageInputs } from '../sandbox/job-files.js';
import { admit, type AdmissionContext } from './admission.js';
import { RunnerCore, type RunnerOptions } from './core.js';
import { JobLifecycle } from './lifecycle.js';
import { stopReasons, type StopRequest } from './outcome.js';
import { recoverJobs, type RecoveryResult } from './recovery.js';
import { isFinalState, type Job } from './schema.js';

export { DEFAULT_GRACE_MS, type RunnerOptions } from './core.js';

export class JobRunner {
  private readonly core: RunnerCore;
  private readonly lifecycle: JobLifecycle;

  constructor(options: RunnerOptions) {
    this.core = new RunnerCore(options);
    this.lifecycle = new JobLifecycle(this.core);
  }

  get agentInstance(): string {
    return this.core.policy.agentInstance;
  }

  /**
   * Validates and queues a job; resolves with its queued record once nothing can refuse it any
   * more. A bad spec, a GPU request this machine cannot serve, or a network allow-list the agent
   * cannot make safe (docs/sandbox.md) is refused here, before anything is created.
   */
  async submit(input: unknown, files: { inputs?: Record<string, string | Uint8Array> } = {}): Promise<Job> {
    const core = this.core;
    if (core.closed) throw new AppError('runner-closed', 'The job runner is shutting down; try again once the agent has restarted.');
    const { spec, gpus, baseline, useRunsc } = await admit(input, this.admissionContext());
    const job = core.store.insert(spec, gpus.map((g) => g.key), core.now(), 'submitted', 'Queued: waiting to start.');
    fs.mkdirSync(path.join(core.jobDir(spec.id), 'input'), { recursive: true, mode: 0o755 });
    if (files.inputs) stageInputs(path.join(core.jobDir(spec.id), 'input'), files.inputs);
    const active = core.track(spec, gpus, 'queued', spec.timeoutSeconds * 1000);
    active.gpuBaseline = baseline;
    active.useRunsc = useRunsc;
    core.emit(job);
    void this.lifecycle.run(active).catch((error: unknown) => core.log.error('job run crashed', { id: spec.id, error }));
    return job;
  }

  /** Would submit() take this spec now? Null, or the runner's own refusal; nothing is created (the marketplace asks before accepting an offer). */
  async check(input: unknown): Promise<AppError | null> {
    try {
      await admit(input, this.admissionContext());
      return null;
    } catch (error) {
      return error instanceof AppError ? error : new AppError('invalid-input', (error as Error).message);
    }
  }

  private admissionContext(): AdmissionContext {
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
        return busy;
      },
      checkNvidiaRuntime: core.options.checkNvidiaRuntime !== false,
    };
  }

  /** Resolves when the job reaches a final state. */
  async wait(id: string): Promise<Job> {
    const active = this.core.active.get(id);
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
    return recoverJobs(this.core, this.lifecycle);
  }

  /** Stops watching (timers, log streams); containers keep running and are re-adopted by recover(). */
  async close(): Promise<void> {
    const core = this.core;
    core.closed = true;
    for (const a of core.active.values()) {
      if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
      if (a.killTimer) clearTimeout(a.killTimer);
      a.logStream?.destroy();
    }
    core.active.clear();
    core.engineWatch.stop();
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
