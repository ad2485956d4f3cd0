/**
 * The job runner: takes a job spec through queued → pulling → starting → running ⇄ paused →
 * stopping → a final state, on the real Docker engine, persisting every change (SQLite) and
 * streaming logs. The same runner serves marketplace jobs, `offshift job run` and the tests.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { AppError } from '../api/errors.js';
import type { Gpu, TelemetrySample } from '../gpu/schema.js';
import { silentLogger, type Logger } from '../log.js';
import { buildContainerSpec, type AssignedGpu } from '../sandbox/container-spec.js';
import { dockerUnreachable, engineFeatures, NVIDIA_TOOLKIT_HELP, resolveImage, type EngineFeatures } from '../sandbox/docker.js';
import { PullProgress, type PullEvent } from '../sandbox/pull-progress.js';
import { assignGpus, gpusBackInService, gpusToTakeOutOfService, processBaseline } from '../sandbox/gpu-assign.js';
import { Egress } from '../sandbox/egress/egress.js';
import { canMountOutput, collectOutput, mountOutput, stageInputs, unmountOutput } from '../sandbox/job-files.js';
import { LogDemuxer } from '../sandbox/log-demux.js';
import { GVISOR_MISSING_HELP, type SandboxSettings } from '../sandbox/settings.js';
import { defaultSandboxPolicy, LABEL_AGENT, LABEL_JOB, LABEL_MANAGED, type SandboxPolicy } from '../sandbox/policy.js';
import type { Db } from '../storage/database.js';
import { DEFAULT_LOG_CAP_BYTES, JobLog } from './job-log.js';
import { UsageMeter } from './metering.js';
import { decideOutcome, parseJobSpec, stopReasons, stopStateFromReason, type StopRequest } from './outcome.js';
import { isFinalState, type Job, type JobLogEvent, type JobProgressEvent, type JobSpec, type JobState } from './schema.js';
import { JobStore, ranMsFromEvents } from './store.js';

export const DEFAULT_GRACE_MS = 2000;

export interface RunnerOptions {
  db: Db;
  docker: Docker;
  /** The data folder: job logs and staged inputs live in <home>/jobs/<id>/. */
  home: string;
  log?: Logger;
  /** The GPUs that exist now (GpuService.list()); none when absent. */
  listGpus?: () => Promise<Gpu[]>;
  /** Live job logs (the agent forwards them as `job.log`). */
  onLog?: (event: JobLogEvent) => void;
  /** Progress of an image pull (the agent forwards it as `job.progress`), at most 4 a second. */
  onProgress?: (event: JobProgressEvent) => void;
  graceMs?: number;
  logCapBytes?: number;
  /** The effective sandbox settings (runtime: default or gVisor), read at each job's submit. */
  sandboxSettings?: () => SandboxSettings;
  /** Policy overrides (uid, pids, tmp size, log cap, runsc). */
  policy?: Partial<Omit<SandboxPolicy, 'agentInstance' | 'inputDir'>>;
  /**
   * Refuse NVIDIA jobs up front when the engine has no NVIDIA runtime (default true). Tests turn
   * it off to prove that the engine's own refusal at start leaves nothing behind either.
   */
  checkNvidiaRuntime?: boolean;
  /** Allow-list jobs: addresses/CIDRs the egress proxy may reach although private (admin policy). */
  egressAllowedPrivate?: readonly string[];
  now?: () => number;
}

interface Active {
  id: string;
  spec: JobSpec;
  gpus: AssignedGpu[];
  state: JobState;
  containerId: string | null;
  stop: StopRequest | null;
  stopGraceMs: number;
  killTimer: NodeJS.Timeout | null;
  timeoutTimer: NodeJS.Timeout | null;
  /** Run time still allowed (pauses do not count against the maximum duration). */
  remainingMs: number;
  runningSince: number | null;
  /** The job's address on the egress network (allow-list jobs). */
  egressIp: string | null;
  meter: UsageMeter | null;
  /** The processes on the job's GPUs before it started (not its leftovers). */
  gpuBaseline: Map<string, Set<number>>;
  /** Run under gVisor (decided at submit: the settings asked and the engine has runsc). */
  useRunsc: boolean;
  log: JobLog;
  logStream: Readable | null;
  logDone: Promise<void>;
  done: Promise<Job>;
  resolveDone: (job: Job) => void;
}

export class JobRunner {
  private readonly store: JobStore;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly policy: Omit<SandboxPolicy, 'inputDir'>;
  private readonly active = new Map<string, Active>();
  private readonly listeners = new Set<(job: Job) => void>();
  private readonly outOfService = new Map<string, string>();
  /** For each GPU out of service, the processes that were there before the job that left the leftover. */
  private readonly outOfServiceBaselines = new Map<string, ReadonlySet<number>>();
  private features: EngineFeatures | null = null;
  private readonly egress: Egress;
  private closed = false;
  /** Set by pauseAll until resumeAll: a job that starts meanwhile is frozen as soon as it runs. */
  private held: string | null = null;

  constructor(private readonly options: RunnerOptions) {
    this.store = new JobStore(options.db);
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.policy = { ...defaultSandboxPolicy, ...options.policy, agentInstance: this.store.agentInstance() };
    this.egress = new Egress({
      docker: options.docker,
      agentInstance: this.policy.agentInstance,
      log: this.log,
      allowedPrivate: options.egressAllowedPrivate,
      onDecision: (jobId, line) => jobId && this.options.onLog?.({ id: jobId, stream: 'system', text: line }),
    });
  }

  get agentInstance(): string {
    return this.policy.agentInstance;
  }

  // ── the API the agent, the CLI and the availability loop use ──────────────

  /**
   * Validates and queues a job; resolves with its queued record once nothing can refuse it any
   * more. A bad spec, a GPU request this machine cannot serve, or a network allow-list (not
   * supported yet, see docs/sandbox.md) is refused here, before anything is created.
   */
  async submit(input: unknown, files: { inputs?: Record<string, string | Uint8Array> } = {}): Promise<Job> {
    if (this.closed) throw new AppError('runner-closed', 'The job runner is shutting down; try again once the agent has restarted.');
    const spec = parseJobSpec(input, () => crypto.randomUUID());
    if (this.store.exists(spec.id)) throw new AppError('invalid-input', `Invalid job: id: a job "${spec.id}" exists already.`);
    if (spec.network !== 'none') {
      const why = await this.egress.ready();
      if (why) {
        throw new AppError(
          'network-unavailable',
          `This job asks for network access (an allow-list), but ${why}. Without that, a networked job could reach this machine's services or its LAN, so network jobs are refused; jobs with network "none" still run.`,
        );
      }
    }
    const engine = await this.engine();
    const useRunsc = this.policy.useRunsc || this.options.sandboxSettings?.().runtime === 'gvisor';
    if (useRunsc && !engine.runsc) throw new AppError('gvisor-missing', GVISOR_MISSING_HELP);
    if (engine.cpus > 0 && spec.cpus > engine.cpus) {
      throw new AppError('invalid-input', `Invalid job: cpus: ${spec.cpus} asked, but this machine has ${engine.cpus} CPUs.`);
    }
    if (engine.memoryBytes > 0 && spec.memoryMiB * 1024 * 1024 > engine.memoryBytes) {
      throw new AppError('invalid-input', `Invalid job: memoryMiB: ${spec.memoryMiB} MiB asked, but this machine has ${Math.floor(engine.memoryBytes / 1024 / 1024)} MiB.`);
    }
    let gpus: AssignedGpu[] = [];
    let baseline = new Map<string, Set<number>>();
    if (spec.gpus !== 0) {
      const all = this.options.listGpus ? await this.options.listGpus() : [];
      await this.refreshOutOfService(all);
      const busy = new Map(this.outOfService);
      for (const a of this.active.values()) for (const g of a.gpus) busy.set(g.key, `in use by job ${a.id}`);
      gpus = assignGpus(spec.gpus, all, busy);
      baseline = processBaseline(gpus.map((g) => g.key), all);
      if (gpus.some((g) => g.vendor === 'nvidia') && this.options.checkNvidiaRuntime !== false) {
        if (!engine.nvidiaRuntime) throw new AppError('nvidia-runtime-missing', NVIDIA_TOOLKIT_HELP);
      }
    }
    const job = this.store.insert(spec, gpus.map((g) => g.key), this.now(), 'submitted', 'Queued: waiting to start.');
    fs.mkdirSync(path.join(this.jobDir(spec.id), 'input'), { recursive: true, mode: 0o755 });
    if (files.inputs) stageInputs(path.join(this.jobDir(spec.id), 'input'), files.inputs);
    const active = this.track(spec, gpus, 'queued', spec.timeoutSeconds * 1000);
    active.gpuBaseline = baseline;
    active.useRunsc = useRunsc;
    this.emit(job);
    void this.run(active).catch((error: unknown) => this.log.error('job run crashed', { id: spec.id, error }));
    return job;
  }

  /** Resolves when the job reaches a final state. */
  async wait(id: string): Promise<Job> {
    const active = this.active.get(id);
    if (active) return active.done;
    const job = this.store.get(id);
    if (!job) throw notFound(id);
    return job;
  }

  async cancel(id: string, detail = 'Cancelled by the owner.'): Promise<Job> {
    const active = this.active.get(id);
    if (!active) {
      const job = this.store.get(id);
      if (!job) throw notFound(id);
      return job;
    }
    await this.stop(active, { state: 'cancelled', reason: stopReasons.cancelled, detail }, this.graceMs);
    return this.store.get(id)!;
  }

  /** Stops one job for a reason of the caller's (a marketplace job that is not paid, say). */
  async stopJob(id: string, request: StopRequest, graceMs: number = this.graceMs): Promise<Job> {
    const active = this.active.get(id);
    if (!active) {
      const job = this.store.get(id);
      if (!job) throw notFound(id);
      return job;
    }
    await this.stop(active, request, graceMs);
    return this.store.get(id)!;
  }

  /** Running and paused jobs end `preempted` (SIGTERM, grace, SIGKILL); resolves when all have ended. */
  async preemptAll(graceMs: number = this.graceMs, detail = 'Preempted: the owner needs the GPU back.'): Promise<void> {
    const all = [...this.active.values()];
    await Promise.all(all.map((a) => this.stop(a, { state: 'preempted', reason: stopReasons.preempted, detail }, graceMs)));
    await Promise.all(all.map((a) => a.done));
  }

  /** Freezes every running job (Docker pause: the cgroup freezer). */
  async pauseAll(detail = 'Paused: the owner is using this machine.'): Promise<void> {
    this.held = detail;
    await Promise.all([...this.active.values()].filter((a) => a.state === 'running').map((a) => this.pause(a, detail)));
  }

  async resumeAll(detail = 'Resumed.'): Promise<void> {
    this.held = null;
    await Promise.all([...this.active.values()].filter((a) => a.state === 'paused').map((a) => this.resume(a, detail)));
  }

  /** Jobs in hand and not paused (queued to stopping). */
  runningCount(): number {
    return [...this.active.values()].filter((a) => a.state !== 'paused' && !isFinalState(a.state)).length;
  }

  onChange(listener: (job: Job) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(limit?: number): Job[] {
    return this.store.list(limit);
  }

  get(id: string): Job | null {
    return this.store.get(id);
  }

  events(id: string) {
    return this.store.events(id);
  }

  /** The kept log (up to the cap, with the dropped-bytes marker once the job has ended). */
  logs(id: string): { id: string; text: string; droppedBytes: number } {
    const job = this.store.get(id);
    if (!job) throw notFound(id);
    let text: string;
    try {
      text = fs.readFileSync(this.logFile(id), 'utf8');
    } catch {
      text = job.logTail;
    }
    const active = this.active.get(id);
    return { id, text, droppedBytes: active ? active.log.dropped : job.logDroppedBytes };
  }

  /** GPUs taken out of service after a job left memory on them, with the reason. */
  gpusOutOfService(): ReadonlyMap<string, string> {
    return this.outOfService;
  }

  /** Telemetry from the GPU service: metered into the jobs running on those GPUs. */
  feedTelemetry(samples: readonly TelemetrySample[]): void {
    for (const a of this.active.values()) if (a.meter) for (const s of samples) a.meter.sample(s);
  }

  /**
   * After a restart: re-adopts this agent's running containers, records the end of those that
   * exited meanwhile, removes leftovers ("Created" containers, containers with no record), and
   * closes the records of jobs whose container is gone.
   */
  async recover(): Promise<{ readopted: string[]; finished: string[]; removed: string[]; lost: string[] }> {
    const out = { readopted: [] as string[], finished: [] as string[], removed: [] as string[], lost: [] as string[] };
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.options.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_AGENT}=${this.policy.agentInstance}`] },
      });
    } catch (error) {
      throw dockerUnreachable(error);
    }
    const seen = new Set<string>();
    for (const info of containers) {
      const id = info.Labels[LABEL_JOB] ?? '';
      const job = id ? this.store.get(id) : null;
      const container = this.options.docker.getContainer(info.Id);
      if (!job || isFinalState(job.state) || this.active.has(id)) {
        if (this.active.has(id)) {
          seen.add(id);
          continue;
        }
        await container.remove({ force: true }).catch(() => {});
        out.removed.push(info.Id);
        this.log.info('removed a leftover container', { container: info.Id, job: id || null });
        continue;
      }
      seen.add(id);
      const inspect = await container.inspect();
      const status = inspect.State.Status;
      if (status === 'created') {
        await container.remove({ force: true }).catch(() => {});
        out.removed.push(info.Id);
        this.store.transition(id, 'failed', 'start-interrupted', 'The agent stopped while starting this job; its container was never started and has been removed.', this.now(), { endedAt: this.now(), containerId: null });
        this.emit(this.store.get(id)!);
        continue;
      }
      const gpus = job.gpus.map((key) => ({ vendor: 'nvidia', key, uuid: key }) as AssignedGpu);
      const events = this.store.events(id);
      const ranMs = ranMsFromEvents(events, this.now());
      const active = this.track(job.spec as JobSpec, gpus, job.state, job.spec.timeoutSeconds * 1000 - ranMs);
      active.containerId = info.Id;
      if (job.state === 'stopping') {
        const state = stopStateFromReason(job.reason);
        if (state) active.stop = { state, reason: job.reason, detail: job.detail };
      }
      active.meter = UsageMeter.resume(job.startedAt ?? this.now(), job.gpus, ranMs, this.now());
      if (status === 'running' || status === 'paused') {
        out.readopted.push(id);
        const egressIp = inspect.NetworkSettings.Networks?.[this.egress.networkName]?.IPAddress;
        if (job.spec.network !== 'none' && egressIp && !(await this.egress.ready())) {
          this.egress.adopt(id, job.spec.network.allow, egressIp);
          active.egressIp = egressIp;
        }
        const state: JobState = status === 'paused' ? 'paused' : 'running';
        active.state = state;
        this.transition(active, state, 'readopted', `Re-adopted after the agent restarted (${state}).`);
        if (state === 'running') {
          active.runningSince = this.now();
          this.armTimeout(active);
        } else {
          active.meter.paused(this.now());
        }
        if (active.stop) void this.stop(active, active.stop, this.graceMs);
        active.log.replayFromStart();
        this.attachLogs(active);
        void this.finishWhenExited(active).catch((error: unknown) => this.log.error('re-adopted job crashed', { id, error }));
      } else {
        out.finished.push(id);
        await this.finish(active);
      }
    }
    for (const job of this.store.unfinished()) {
      if (seen.has(job.id) || this.active.has(job.id)) continue;
      out.lost.push(job.id);
      const never = job.state === 'queued' || job.state === 'pulling';
      this.store.transition(
        job.id,
        'failed',
        never ? 'agent-restarted' : 'container-lost',
        never ? 'The agent stopped before this job started; it did not run.' : 'The job\'s container disappeared while the agent was not running; its outcome is unknown.',
        this.now(),
        { endedAt: this.now() },
      );
      this.emit(this.store.get(job.id)!);
    }
    return out;
  }

  /** Stops watching (timers, log streams); containers keep running and are re-adopted by recover(). */
  async close(): Promise<void> {
    this.closed = true;
    for (const a of this.active.values()) {
      if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
      if (a.killTimer) clearTimeout(a.killTimer);
      a.logStream?.destroy();
    }
    this.active.clear();
    await this.egress.close().catch((error: unknown) => this.log.warn('egress shutdown failed', { error }));
  }

  /**
   * After a job: takes out of service each of its GPUs where a process that was not there
   * before the job still holds memory (nvidia-smi's process list, via the GPU service).
   */
  async checkGpusAfterJob(gpuKeys: readonly string[], baseline: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    if (!gpuKeys.length || !this.options.listGpus) return;
    try {
      const taken = gpusToTakeOutOfService(gpuKeys, await this.options.listGpus(), baseline);
      for (const [key, why] of taken) {
        this.outOfService.set(key, why);
        this.outOfServiceBaselines.set(key, baseline.get(key) ?? new Set());
        this.log.warn('GPU out of service', { gpu: key, reason: why });
      }
    } catch (error) {
      this.log.warn('GPU check after a job failed', { error });
    }
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private async engine(): Promise<EngineFeatures> {
    this.features ??= await engineFeatures(this.options.docker);
    return this.features;
  }

  private async refreshOutOfService(gpus: Gpu[]): Promise<void> {
    for (const key of gpusBackInService(this.outOfService, gpus, this.outOfServiceBaselines)) {
      this.outOfService.delete(key);
      this.outOfServiceBaselines.delete(key);
      this.log.info('GPU back in service', { gpu: key });
    }
  }

  private jobDir(id: string): string {
    return path.join(this.options.home, 'jobs', id);
  }

  private logFile(id: string): string {
    return path.join(this.jobDir(id), 'log.txt');
  }

  private track(spec: JobSpec, gpus: AssignedGpu[], state: JobState, remainingMs: number): Active {
    fs.mkdirSync(this.jobDir(spec.id), { recursive: true, mode: 0o700 });
    let resolveDone!: (job: Job) => void;
    const done = new Promise<Job>((resolve) => (resolveDone = resolve));
    const active: Active = {
      id: spec.id,
      spec,
      gpus,
      state,
      containerId: null,
      stop: null,
      stopGraceMs: this.graceMs,
      killTimer: null,
      timeoutTimer: null,
      remainingMs: Math.max(0, remainingMs),
      runningSince: null,
      egressIp: null,
      meter: null,
      gpuBaseline: new Map(),
      useRunsc: false,
      log: new JobLog(this.logFile(spec.id), this.options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES),
      logStream: null,
      logDone: Promise.resolve(),
      done,
      resolveDone,
    };
    this.active.set(spec.id, active);
    return active;
  }

  private emit(job: Job): void {
    for (const l of this.listeners) {
      try {
        l(job);
      } catch (error) {
        this.log.warn('job listener failed', { error });
      }
    }
  }

  private transition(a: Active, state: JobState, reason: string, detail: string, patch: Parameters<JobStore['transition']>[5] = {}): Job {
    a.state = state;
    const job = this.store.transition(a.id, state, reason, detail, this.now(), patch);
    this.log.info('job state', { id: a.id, state, reason });
    this.emit(job);
    return job;
  }

  /** Agent lines (pull progress) go to live viewers only: the log file holds the container's output alone. */
  /** Turns the engine's per-layer pull events into `job.progress` (throttled) and a log line per quarter. */
  private pullReporter(a: Active): (event: PullEvent) => void {
    const progress = new PullProgress();
    let lastSent = 0;
    let lastQuarter = -1;
    return (event) => {
      const summary = progress.update(event);
      if (!summary) {
        if (event.status && event.current === null) this.systemLog(a, `[pull] ${event.status}\n`);
        return;
      }
      const now = Date.now();
      const quarter = summary.fraction === null ? -1 : Math.floor(summary.fraction * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        this.systemLog(a, `[pull] ${summary.detail}\n`);
      }
      if (now - lastSent >= 250 || summary.fraction === 1) {
        lastSent = now;
        this.options.onProgress?.({ id: a.id, phase: 'pull', fraction: summary.fraction, detail: summary.detail });
      }
    };
  }

  private systemLog(a: Active, text: string): void {
    this.options.onLog?.({ id: a.id, stream: 'system', text });
  }

  private async run(a: Active): Promise<void> {
    const docker = this.options.docker;
    try {
      this.transition(a, 'pulling', 'image', `Checking the image ${a.spec.image}.`);
      const imageId = await resolveImage(docker, a.spec.image, this.pullReporter(a));
      if (a.stop) return await this.endBeforeStart(a);
      this.transition(a, 'starting', 'creating', 'Creating the hardened container.');
      const lease = a.spec.network === 'none' ? null : await this.egress.lease(a.id, a.spec.network.allow);
      a.egressIp = lease?.ip ?? null;
      let outputDir: string | null = null;
      if (a.spec.outputMiB > 0) {
        if (canMountOutput()) {
          outputDir = path.join(this.jobDir(a.id), 'output');
          await mountOutput(outputDir, a.spec.outputMiB, this.policy.uid, this.policy.gid);
        } else {
          this.systemLog(a, '[offshift] no /output folder: mounting its size-capped folder needs an agent running as root; write to /scratch instead.\n');
        }
      }
      const createOptions = buildContainerSpec({ ...a.spec, image: imageId }, a.gpus, {
        ...this.policy,
        useRunsc: a.useRunsc,
        inputDir: path.join(this.jobDir(a.id), 'input'),
        egress: lease,
        outputDir,
      });
      const container = await docker.createContainer(createOptions);
      a.containerId = container.id;
      this.store.update(a.id, { containerId: container.id });
      if (a.stop) {
        await container.remove({ force: true }).catch(() => {});
        return await this.endBeforeStart(a);
      }
      try {
        await container.start();
      } catch (error) {
        // A failed start leaves a "Created" container behind: remove it.
        await container.remove({ force: true }).catch(() => {});
        const message = error instanceof Error ? error.message.replace(/^\(HTTP code \d+\) [a-z ]+- /, '') : String(error);
        this.transition(a, 'failed', 'start-failed', `The container could not start: ${message.trim()}`, { endedAt: this.now(), containerId: null });
        return this.release(a);
      }
      const startedAt = this.now();
      a.meter = new UsageMeter(startedAt, a.gpus.map((g) => g.key));
      a.meter.running(startedAt);
      a.runningSince = startedAt;
      this.attachLogs(a);
      this.transition(a, 'running', 'started', 'Running.', { startedAt });
      this.armTimeout(a);
      if (a.stop) void this.stop(a, a.stop, a.stopGraceMs);
      else if (this.held !== null) await this.pause(a, this.held).catch(() => {});
      await this.finishWhenExited(a);
    } catch (error) {
      const appError = error instanceof AppError ? error : null;
      if (a.containerId) await docker.getContainer(a.containerId).remove({ force: true }).catch(() => {});
      if (a.stop && !a.containerId) return await this.endBeforeStart(a);
      this.transition(a, 'failed', appError?.code ?? 'internal-error', appError?.message ?? `The agent failed to run the job: ${error instanceof Error ? error.message : String(error)}`, {
        endedAt: this.now(),
      });
      this.release(a);
    }
  }

  private async endBeforeStart(a: Active): Promise<void> {
    const stop = a.stop!;
    this.transition(a, stop.state, stop.reason, `${stop.detail} (before it started)`, { endedAt: this.now(), containerId: null });
    this.release(a);
  }

  private attachLogs(a: Active): void {
    const container = this.options.docker.getContainer(a.containerId!);
    a.logDone = (async () => {
      const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
      a.logStream = stream;
      const demux = new LogDemuxer((streamName, data) => {
        const kept = a.log.write(data);
        if (kept.length) this.options.onLog?.({ id: a.id, stream: streamName, text: kept.toString('utf8') });
      });
      await new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => demux.push(chunk));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', resolve);
      });
    })().catch((error: unknown) => this.log.warn('job log stream failed', { id: a.id, error }));
  }

  private armTimeout(a: Active): void {
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = setTimeout(() => {
      void this.stop(a, { state: 'timed-out', reason: stopReasons['timed-out'], detail: `Stopped: the job reached its maximum duration of ${a.spec.timeoutSeconds} s.` }, this.graceMs);
    }, a.remainingMs);
    a.timeoutTimer.unref?.();
  }

  private async pause(a: Active, detail: string): Promise<void> {
    if (a.state !== 'running' || !a.containerId) return;
    await this.options.docker.getContainer(a.containerId).pause();
    const now = this.now();
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = null;
    if (a.runningSince !== null) a.remainingMs = Math.max(0, a.remainingMs - (now - a.runningSince));
    a.runningSince = null;
    a.meter?.paused(now);
    this.transition(a, 'paused', 'paused', detail);
  }

  private async resume(a: Active, detail: string): Promise<void> {
    if (a.state !== 'paused' || !a.containerId) return;
    await this.options.docker.getContainer(a.containerId).unpause();
    const now = this.now();
    a.runningSince = now;
    a.meter?.running(now);
    this.transition(a, 'running', 'resumed', detail);
    this.armTimeout(a);
  }

  /** SIGTERM, the grace period, then SIGKILL. Before the container exists, the run just ends. */
  private async stop(a: Active, request: StopRequest, graceMs: number): Promise<void> {
    if (isFinalState(a.state)) return;
    if (a.stop && a.state === 'stopping') return; // already on its way out
    a.stop ??= request;
    a.stopGraceMs = graceMs;
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    a.timeoutTimer = null;
    if (a.state !== 'running' && a.state !== 'paused') return; // run() notices a.stop
    const container = this.options.docker.getContainer(a.containerId!);
    const wasPaused = a.state === 'paused';
    this.transition(a, 'stopping', a.stop.reason, `${a.stop.detail} Stopping (SIGTERM, then SIGKILL after ${graceMs} ms).`);
    const kill = () => container.kill({ signal: 'SIGKILL' }).catch(() => {});
    try {
      if (wasPaused) {
        // A frozen process cannot handle SIGTERM: thaw it first.
        await container.unpause().catch(() => {});
        a.meter?.running(this.now());
      }
      if (graceMs <= 0) await kill();
      else {
        await container.kill({ signal: 'SIGTERM' });
        a.killTimer = setTimeout(() => void kill(), graceMs);
      }
    } catch {
      // Already gone: finishWhenExited records it.
    }
  }

  private async finishWhenExited(a: Active): Promise<void> {
    const container = this.options.docker.getContainer(a.containerId!);
    try {
      await container.wait();
    } catch {
      // The container vanished (removed from outside): finish() records what it can.
    }
    await this.finish(a);
  }

  /** Records the final state from the engine, removes the container, checks the GPUs. */
  private async finish(a: Active): Promise<void> {
    if (a.killTimer) clearTimeout(a.killTimer);
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    const container = this.options.docker.getContainer(a.containerId!);
    let exitCode: number | null = null;
    let oomKilled = false;
    let finishedAt: number | null = null;
    try {
      const info = await container.inspect();
      exitCode = info.State.ExitCode;
      oomKilled = info.State.OOMKilled;
      const t = Date.parse(info.State.FinishedAt);
      finishedAt = Number.isFinite(t) && t > 0 ? t : null;
    } catch {}
    // Let the log stream drain (it ends when the container does).
    await Promise.race([a.logDone, new Promise((r) => setTimeout(r, 2000))]);
    a.logStream?.destroy();
    a.log.close();
    const endedAt = finishedAt && finishedAt <= this.now() ? finishedAt : this.now();
    const outcome = decideOutcome({ stop: a.stop, exitCode, oomKilled });
    const usage = (a.meter ?? new UsageMeter(endedAt, a.gpus.map((g) => g.key))).finish(endedAt);
    this.transition(a, outcome.state, outcome.reason, outcome.detail, {
      endedAt,
      exitCode,
      oomKilled,
      usage,
      logTail: a.log.tailText,
      logDroppedBytes: a.log.dropped,
    });
    await container.remove({ force: true }).catch(() => {});
    try {
      const collected = await collectOutput(path.join(this.jobDir(a.id), 'output'));
      if (collected.files) this.log.info('job output collected', { id: a.id, ...collected });
    } catch (error) {
      this.log.warn('job output collection failed', { id: a.id, error });
    }
    await this.checkGpusAfterJob(a.gpus.map((g) => g.key), a.gpuBaseline);
    this.release(a);
  }

  private release(a: Active): void {
    if (a.egressIp) this.egress.release(a.egressIp);
    void unmountOutput(path.join(this.jobDir(a.id), 'output')).catch(() => {});
    if (a.killTimer) clearTimeout(a.killTimer);
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    this.active.delete(a.id);
    try {
      a.log.close();
    } catch {}
    a.resolveDone(this.store.get(a.id)!);
  }
}

function notFound(id: string): AppError {
  return new AppError('not-found', `There is no job "${id}". \`offshift job list\` shows the jobs this agent knows.`);
}
