/**
 * The jobs capability inside the agent: the runner over the agent's database and Docker
 * engine, the jobs.* command handlers, job.update / job.log events, recovery on start and the
 * agent state's running-jobs count.
 */
import path from 'node:path';
import type { Handlers } from '../api/contract.js';
import { AppError } from '../errors.js';
import type { EventBus } from '../api/events.js';
import type { Gpu, TelemetrySample } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { connectDocker } from '../engine/index.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { DATABASE_FILE, openDatabase, type Db } from '../storage/database.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { SettingsStore } from '../settings/store.js';
import { listOutputs, readOutputImage } from './outputs.js';
import { createImageHandlers, type ImageHandlers } from '../images/handlers.js';
import { defaultImageSettings } from '../images/schema.js';
import { ImageService } from '../images/service.js';
import { effectiveImages, imagesValue } from '../images/settings.js';
import { Retention, RETENTION_INTERVAL_MS } from './retention.js';
import { defaultRetentionSettings, type RetentionView } from './retention-schema.js';
import { checkRetentionPatch, effectiveRetention, retentionValue } from './retention-settings.js';
import { JobRunner } from './runner.js';
import { isFinalState } from './schema.js';
import { JobStore, listPage } from './store.js';

export type JobHandlers = Pick<Handlers, 'jobs.list' | 'jobs.get' | 'jobs.logs' | 'jobs.cancel' | 'jobs.run' | 'jobs.outputs' | 'jobs.outputFile' | 'jobs.retention'> & ImageHandlers;

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

export function createJobsService(options: {
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
}): JobsService {
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
  const retentionRule = () => (settings ? effectiveRetention(settings.store, settings.policy()) : null);
  const retentionIntervalMs = options.retentionIntervalMs ?? RETENTION_INTERVAL_MS;
  const retention = new Retention({
    db,
    home: options.home,
    log: options.log,
    settings: () => {
      const e = retentionRule();
      return e ? retentionValue(e) : defaultRetentionSettings;
    },
    inHand: (id) => inHand.has(id),
  });
  const retentionView = (): RetentionView => {
    const e = retentionRule();
    return {
      effective: e ? retentionValue(e) : defaultRetentionSettings,
      locked: e?.locked ?? [],
      user: settings?.store.section('retention').patch ?? {},
      usage: retention.usage(),
      lastRun: retention.lastRun,
      intervalMs: retentionIntervalMs,
    };
  };
  const unsubscribe = options.bus.subscribe((event, payload) => {
    if (event === 'gpu.telemetry') runner.feedTelemetry((payload as { samples: TelemetrySample[] }).samples);
  });

  // The runner's ids are checked at submit (letters, digits, _ . -), so this stays in <home>/jobs.
  const outputDir = (id: string) => path.join(options.home, 'jobs', id, 'output');
  let stopped = false;
  const handlers: JobHandlers = {
    'jobs.list': async ({ limit, offset }) => ({
      ...listPage(store, limit, offset),
      gpusOutOfService: [...runner.gpusOutOfService()].map(([gpuKey, reason]) => ({ gpuKey, reason })),
    }),
    'jobs.get': async ({ id }) => {
      const job = runner.get(id);
      if (!job) throw notFound(id);
      // The newest state changes: a job paused and resumed all week must not make a huge answer.
      return { job, events: runner.events(id).slice(-JOB_EVENTS_SHOWN).map(({ at, state, reason }) => ({ at, state, reason })) };
    },
    'jobs.logs': async ({ id }) => {
      const logs = runner.logs(id);
      const removed = retention.removal(id);
      if (!removed) return logs;
      // The record keeps the log's last lines; the file went with the rest of the job's folder.
      const note = `[offshift: the full log was removed on ${new Date(removed.at).toISOString()} by the retention rule (${removed.rule === 'age' ? 'older than the age limit' : 'over the size limit'}); its last lines follow]\n`;
      return { ...logs, text: note + logs.text };
    },
    'jobs.cancel': async ({ id }) => ({ job: await runner.cancel(id) }),
    'jobs.run': async ({ spec, inputs }) => ({ job: await runner.submit(spec, { inputs }) }),
    'jobs.outputs': async ({ id }) => {
      if (!runner.get(id)) throw notFound(id);
      return { id, ...listOutputs(outputDir(id)), removed: retention.removal(id) };
    },
    'jobs.outputFile': async ({ id, path: rel }) => {
      if (!runner.get(id)) throw notFound(id);
      const removed = retention.removal(id);
      if (removed) {
        throw new AppError('not-found', `The output of job "${id}" was removed on ${new Date(removed.at).toISOString()} by the retention rule. Settings → Job outputs sets how long outputs are kept.`);
      }
      return { id, ...readOutputImage(outputDir(id), rel) };
    },
    'jobs.retention': async (patch) => {
      if (Object.keys(patch).length > 0) {
        if (!settings) throw new AppError('unavailable', 'This agent runs without a settings file, so the retention rule cannot be changed here.');
        const policy = settings.policy();
        const current = effectiveRetention(settings.store, policy);
        checkRetentionPatch(patch, current, policy);
        settings.store.update('retention', patch);
        // A tighter rule applies at once, not at the next tick.
        await retention.run();
      }
      return retentionView();
    },
    ...createImageHandlers(images, settings),
  };

  return {
    runner,
    handlers,
    retention,
    images,
    async start() {
      // Recovery must not hold the agent's start hostage to a slow or silent engine: wait a few
      // seconds, then let it finish in the background.
      const recovery = runner.recover().then(
        (result) => options.log.info('jobs recovered', result),
        (error: unknown) => options.log.warn('job recovery failed; jobs from before the restart are not re-adopted', { error }),
      );
      await Promise.race([recovery, new Promise((r) => setTimeout(r, 5000).unref())]);
      options.onRunningCount(runner.runningCount());
      // Retention once recovery has collected what the last run left (so no output is removed unread).
      void recovery.finally(() => {
        if (stopped) return;
        retention.start(retentionIntervalMs);
        // The image store reconciles with the engine and prunes by its watermarks, now and periodically.
        images.start();
      });
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

/** How many of a job's state changes jobs.get returns (the newest). */
export const JOB_EVENTS_SHOWN = 200;

function notFound(id: string): AppError {
  return new AppError('not-found', `There is no job "${id}". \`offshift job list\` shows the jobs this agent knows.`);
}
