/**
 * The jobs capability inside the agent: the runner over the agent's database and Docker
 * engine, the jobs.* command handlers, job.update / job.log events, recovery on start and the
 * agent state's running-jobs count.
 */
import path from 'node:path';
import type { EventBus } from '../api/events.js';
import type { Gpu, TelemetrySample } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { connectDocker } from '../engine/index.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { DATABASE_FILE, openDatabase, type Db } from '../storage/database.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultImageSettings } from '../images/schema.js';
import { ImageService } from '../images/service.js';
import { effectiveImages, imagesValue } from '../images/settings.js';
import { createJobHandlers, type JobHandlers } from './handlers.js';
import { createJobsRetention } from './jobs-retention.js';
import { RETENTION_INTERVAL_MS, type Retention } from './retention.js';
import { JobRunner } from './runner.js';
import { isFinalState } from './schema.js';
import { JobStore } from './store.js';

export { JOB_EVENTS_SHOWN, type JobHandlers } from './handlers.js';

export interface JobsService {
  readonly runner: JobRunner;
  readonly handlers: JobHandlers;
  /** Finished jobs' folders under the retention rule (retention.ts). */
  readonly retention: Retention;
  /** The images Offshift pulled, within the disk budget (runtime/images/). */
  readonly images: ImageService;
  /** Re-adopts or reaps this agent's containers from before a restart. */
  start(): Promise<void>;
  /**
   * Takes no more jobs, ends the ones that had not started (`cancelled`, agent-stopped), waits
   * (bounded) until they are recorded, then closes the database. Running jobs keep running and
   * are re-adopted on the next start.
   */
  stop(): Promise<void>;
}

export interface JobsServiceOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  bus: EventBus;
  listGpus: () => Promise<Gpu[]>;
  onRunningCount: (count: number) => void;
  /** The effective sandbox settings (gVisor or not), read at each job's submit. */
  sandboxSettings?: () => SandboxSettings;
  /** Where the retention rule is read and changed; without it the defaults apply and cannot be changed. */
  settings?: { store: SettingsStore; policy: () => LoadedPolicy };
  /** How often the retention rule is applied (default RETENTION_INTERVAL_MS). */
  retentionIntervalMs?: number;
  db?: Db;
  /** Whether an image download may run now (the owner away, or allowed while they use the computer). */
  mayDownload?: () => boolean;
  /** The image store's warm images or free budget changed. */
  onImagesChange?: () => void;
}

export function createJobsService(options: JobsServiceOptions): JobsService {
  const db = options.db ?? openDatabase(path.join(options.home, DATABASE_FILE));
  const store = new JobStore(db);
  const docker = connectDocker(options.env);
  const imagesSettings = () => (options.settings ? imagesValue(effectiveImages(options.settings.store, options.settings.policy())) : defaultImageSettings);
  // The image store's in-use list is the runner's, made just below.
  let imagesInUse: () => string[] = () => [];
  const images = new ImageService({ home: options.home, db, docker, log: options.log, settings: imagesSettings, inUse: () => imagesInUse(), mayDownload: options.mayDownload, onChange: options.onImagesChange });
  const runner = new JobRunner({
    db,
    docker,
    images,
    home: options.home,
    log: options.log,
    listGpus: options.listGpus,
    onLog: (event) => options.bus.emit('job.log', event),
    onProgress: (event) => options.bus.emit('job.progress', event),
    sandboxSettings: options.sandboxSettings,
  });
  imagesInUse = () => runner.imagesInUse();
  // Jobs the runner has in hand, until their output is collected and released (retention leaves
  // them be): a job's end is recorded before its /output is collected, and wait() resolves after.
  const inHand = new Set<string>();
  runner.onChange((job) => {
    inHand.add(job.id);
    if (isFinalState(job.state)) void runner.wait(job.id).catch(() => {}).finally(() => inHand.delete(job.id));
    options.bus.emit('job.update', job);
    options.onRunningCount(runner.runningCount());
  });
  const settings = options.settings;
  const retentionIntervalMs = options.retentionIntervalMs ?? RETENTION_INTERVAL_MS;
  const { retention, view: retentionView } = createJobsRetention({
    db,
    home: options.home,
    log: options.log,
    settings,
    intervalMs: retentionIntervalMs,
    inHand: (id) => inHand.has(id),
  });
  const unsubscribe = options.bus.subscribe((event, payload) => {
    if (event === 'gpu.telemetry') runner.feedTelemetry((payload as { samples: TelemetrySample[] }).samples);
  });

  let stopped = false;
  const handlers = createJobHandlers({ home: options.home, runner, store, retention, retentionView, images, settings });

  return {
    runner,
    handlers,
    retention,
    images,
    async start() {
      await startJobs({ runner, retention, images, log: options.log, onRunningCount: options.onRunningCount, retentionIntervalMs, stopped: () => stopped });
    },
    async stop() {
      stopped = true;
      retention.stop();
      unsubscribe();
      // The runner first: it ends the jobs that had not started (their pull aborted) and waits
      // until each has recorded its end; only then is the database closed under it.
      try {
        await Promise.all([runner.close(), images.close()]);
      } finally {
        if (!options.db) db.close();
      }
    },
  };
}

/** Recovery, waited for a few seconds; then, unless stopped meanwhile, retention and the image store. */
async function startJobs(s: {
  runner: JobRunner;
  retention: Retention;
  images: ImageService;
  log: Logger;
  onRunningCount: (count: number) => void;
  retentionIntervalMs: number;
  stopped: () => boolean;
}): Promise<void> {
  const { runner, retention, images } = s;
  // Recovery must not hold the agent's start hostage to a slow or silent engine: wait a few
  // seconds, then let it finish in the background.
  const recovery = runner.recover().then(
    (result) => s.log.info('jobs recovered', result),
    (error: unknown) => s.log.warn('job recovery failed; jobs from before the restart are not re-adopted', { error }),
  );
  await Promise.race([recovery, new Promise((r) => setTimeout(r, 5000).unref())]);
  s.onRunningCount(runner.runningCount());
  // Retention once recovery has collected what the last run left (so no output is removed unread).
  void recovery.finally(() => {
    if (s.stopped()) return;
    retention.start(s.retentionIntervalMs);
    // The image store reconciles with the engine and prunes by its watermarks, now and periodically.
    images.start();
  });
}
