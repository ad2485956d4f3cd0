/**
 * What the runner's parts share: the options, the store, the jobs in hand, and the few
 * operations every part uses (a state change, the end of a job's tracking).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Gpu } from '../gpu/schema.js';
import { silentLogger, type Logger } from '../log.js';
import type { AssignedGpu } from '../sandbox/container-spec.js';
import { engineFeatures, type Engine, type EngineFeatures } from '../engine/index.js';
import { Egress } from '../sandbox/egress/egress.js';
import { chooseJobOutputs, type JobOutputs } from '../sandbox/job-outputs.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { defaultSandboxPolicy, LABEL_AGENT, type SandboxPolicy } from '../sandbox/policy.js';
import type { ImageService } from '../images/service.js';
import type { Db } from '../storage/database.js';
import type { Active } from './active.js';
import { DeferredWrites } from './deferred-writes.js';
import { EngineWatch } from './engine-watch.js';
import { GpuHealth } from './gpu-health.js';
import { DEFAULT_LOG_CAP_BYTES, JobLog } from './job-log.js';
import type { Job, JobLogEvent, JobProgressEvent, JobSpec, JobState } from './schema.js';
import { JobStore, type JobPatch } from './store.js';

export const DEFAULT_GRACE_MS = 2000;

export interface RunnerOptions {
  db: Db;
  docker: Engine;
  /** The data folder: job logs and staged inputs live in <home>/jobs/<id>/. */
  home: string;
  log?: Logger;
  /** The GPUs that exist now (GpuService.list()); none when absent. */
  listGpus?: () => Promise<Gpu[]>;
  /** Live job logs (the agent forwards them as `job.log`). */
  onLog?: (event: JobLogEvent) => void;
  /** The image store (runtime/images/): pulls within the disk budget, shared, with bytes, rate and ETA. Without it images are pulled directly (tests of the runner alone). */
  images?: Pick<ImageService, 'obtain'>;
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
  /** How long to wait for the Docker engine to come back after it went away mid-job (default 60 s). */
  engineBackTimeoutMs?: number;
  now?: () => number;
  /** How often records that a full disk refused are tried again (default 2 s). */
  deferredRetryMs?: number;
}

const PROXY_PORT_KEY = 'jobs.egressProxyPort';

export class RunnerCore {
  readonly store: JobStore;
  readonly log: Logger;
  readonly now: () => number;
  readonly graceMs: number;
  /** How long to wait for the engine to answer again after it went away mid-job. */
  readonly engineBackTimeoutMs: number;
  readonly policy: Omit<SandboxPolicy, 'inputDir'>;
  readonly active = new Map<string, Active>();
  /** Jobs let go of (container and mounts gone) whose end still waits for a full disk: wait() finds them here. */
  readonly ending = new Map<string, Active>();
  /** Job records a full disk refused, written once space returns (deferred-writes.ts). */
  readonly deferred: DeferredWrites;
  /** Jobs whose /output could not be collected for a full disk: their tmpfs is kept until it is. */
  readonly outputsHeld = new Set<string>();
  readonly listeners = new Set<(job: Job) => void>();
  readonly egress: Egress;
  readonly gpuHealth: GpuHealth;
  readonly engineWatch: EngineWatch;
  /** Each job's /output: a host tmpfs when the agent may mount, else a Docker volume (job-outputs.ts). */
  readonly outputs: JobOutputs;
  private features: EngineFeatures | null = null;
  closed = false;
  /** Set by pauseAll until resumeAll: a job that starts meanwhile is frozen as soon as it runs. */
  held: string | null = null;

  constructor(readonly options: RunnerOptions) {
    this.store = new JobStore(options.db);
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.engineBackTimeoutMs = options.engineBackTimeoutMs ?? 60_000;
    this.deferred = new DeferredWrites(this.log, options.deferredRetryMs);
    this.policy = { ...defaultSandboxPolicy, ...options.policy, agentInstance: this.store.agentInstance() };
    const db = options.db;
    this.egress = new Egress({
      docker: options.docker,
      agentInstance: this.policy.agentInstance,
      log: this.log,
      allowedPrivate: options.egressAllowedPrivate,
      onDecision: (jobId, line) => jobId && this.options.onLog?.({ id: jobId, stream: 'system', text: line }),
      // The proxy keeps its port across restarts: a re-adopted job's container names it.
      proxyPort: {
        get: () => Number((db.prepare('SELECT value FROM kv WHERE key = ?').get(PROXY_PORT_KEY) as { value: string } | undefined)?.value ?? 0) || null,
        set: (port) => void db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(PROXY_PORT_KEY, String(port)),
      },
    });
    this.gpuHealth = new GpuHealth(options.listGpus, this.log);
    this.engineWatch = new EngineWatch(options.docker, `${LABEL_AGENT}=${this.policy.agentInstance}`, this.now, this.log);
    this.outputs = chooseJobOutputs({
      docker: options.docker,
      agentInstance: this.policy.agentInstance,
      uid: this.policy.uid,
      gid: this.policy.gid,
      jobDir: (id) => this.jobDir(id),
      jobsDir: path.join(options.home, 'jobs'),
      log: this.log,
    });
  }

  async engine(): Promise<EngineFeatures> {
    this.features ??= await engineFeatures(this.options.docker);
    return this.features;
  }

  jobDir(id: string): string {
    return path.join(this.options.home, 'jobs', id);
  }

  logFile(id: string): string {
    return path.join(this.jobDir(id), 'log.txt');
  }

  /** Starts tracking a job (and watching the engine while any job is in hand). */
  track(spec: JobSpec, gpus: AssignedGpu[], state: JobState, remainingMs: number): Active {
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
      followedSince: this.now(),
      egressIp: null,
      meter: null,
      gpuBaseline: new Map(),
      useRunsc: false,
      log: new JobLog(this.logFile(spec.id), this.options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES),
      logStream: null,
      logDone: Promise.resolve(),
      logSeen: { stdout: 0, stderr: 0 },
      done,
      resolveDone,
      detach: new AbortController(),
      pullAbort: new AbortController(),
    };
    this.active.set(spec.id, active);
    this.engineWatch.start();
    return active;
  }

  emit(job: Job): void {
    for (const l of this.listeners) {
      try {
        l(job);
      } catch (error) {
        this.log.warn('job listener failed', { error });
      }
    }
  }

  /**
   * A state change: recorded and announced. A full disk never throws here: the change waits in
   * memory, in order, and is recorded and announced once space returns (deferred-writes.ts).
   */
  transition(a: Active, state: JobState, reason: string, detail: string, patch: JobPatch = {}): void {
    const before = a.state;
    a.state = state;
    const at = this.now();
    try {
      this.deferred.write({
        jobId: a.id,
        what: `${state} (${reason})`,
        run: () => {
          const job = this.store.transition(a.id, state, reason, detail, at, patch);
          this.log.info('job state', { id: a.id, state, reason });
          this.emit(job);
        },
      });
    } catch (error) {
      // Not recorded, and not for a full disk: the job in hand stays as recorded (the crash guard records its end).
      a.state = before;
      throw error;
    }
  }

  /** A change of a record's fields but not its state; a full disk defers it like a transition. */
  update(id: string, patch: JobPatch): void {
    this.deferred.write({ jobId: id, what: 'its fields', run: () => this.store.update(id, patch) });
  }

  /** A line from the agent to the job's live viewers (not to its log file). */
  systemLog(a: Pick<Active, 'id'>, text: string): void {
    this.options.onLog?.({ id: a.id, stream: 'system', text });
  }

  /** Ends the runner's hold on a job: its address, its output tmpfs, its timers, its waiters. */
  release(a: Active): void {
    if (a.egressIp) this.egress.release(a.egressIp);
    // An output held for a full disk is collected (and its tmpfs released) once space returns.
    const unmounted =
      a.spec.outputMiB > 0 && !this.outputsHeld.has(a.id)
        ? this.outputs.discard(a.id).catch((error: unknown) => this.log.warn('releasing a job output failed', { id: a.id, error }))
        : Promise.resolve();
    if (a.killTimer) clearTimeout(a.killTimer);
    if (a.timeoutTimer) clearTimeout(a.timeoutTimer);
    this.active.delete(a.id);
    if (this.active.size === 0) this.engineWatch.stop();
    try {
      a.log.close();
    } catch {}
    // Waiters learn the end once the output tmpfs is gone: nothing of the job is left then.
    if (!this.deferred.pending(a.id)) {
      const job = this.store.get(a.id)!;
      void unmounted.then(() => a.resolveDone(job));
      return;
    }
    // A full disk: once the end is recorded (and the held output collected).
    this.ending.set(a.id, a);
    void Promise.all([unmounted, this.deferred.settled(a.id)]).then(() => {
      this.ending.delete(a.id);
      try {
        const job = this.store.get(a.id);
        if (job) a.resolveDone(job);
      } catch (error) {
        this.log.warn('reading a job record after its end failed', { id: a.id, error });
      }
    });
  }
}
