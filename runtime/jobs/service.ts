/**
 * The jobs capability inside the agent: the runner over the agent's database and Docker
 * engine, the jobs.* command handlers, job.update / job.log events, recovery on start and the
 * agent state's running-jobs count.
 */
import path from 'node:path';
import type { Handlers } from '../api/dispatcher.js';
import { AppError } from '../api/errors.js';
import type { EventBus } from '../api/events.js';
import type { Gpu, TelemetrySample } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { connectDocker } from '../sandbox/docker.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { DATABASE_FILE, openDatabase, type Db } from '../storage/database.js';
import { listOutputs, readOutputImage } from './outputs.js';
import { JobRunner } from './runner.js';
import { JobStore, listPage } from './store.js';

export type JobHandlers = Pick<Handlers, 'jobs.list' | 'jobs.get' | 'jobs.logs' | 'jobs.cancel' | 'jobs.run' | 'jobs.outputs' | 'jobs.outputFile'>;

export interface JobsService {
  readonly runner: JobRunner;
  readonly handlers: JobHandlers;
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
  db?: Db;
}): JobsService {
  const db = options.db ?? openDatabase(path.join(options.home, DATABASE_FILE));
  const store = new JobStore(db);
  const runner = new JobRunner({
    db,
    docker: connectDocker(options.env),
    home: options.home,
    log: options.log,
    listGpus: options.listGpus,
    onLog: (event) => options.bus.emit('job.log', event),
    onProgress: (event) => options.bus.emit('job.progress', event),
    sandboxSettings: options.sandboxSettings,
  });
  runner.onChange((job) => {
    options.bus.emit('job.update', job);
    options.onRunningCount(runner.runningCount());
  });
  const unsubscribe = options.bus.subscribe((event, payload) => {
    if (event === 'gpu.telemetry') runner.feedTelemetry((payload as { samples: TelemetrySample[] }).samples);
  });

  // The runner's ids are checked at submit (letters, digits, _ . -), so this stays in <home>/jobs.
  const outputDir = (id: string) => path.join(options.home, 'jobs', id, 'output');
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
    'jobs.logs': async ({ id }) => runner.logs(id),
    'jobs.cancel': async ({ id }) => ({ job: await runner.cancel(id) }),
    'jobs.run': async ({ spec, inputs }) => ({ job: await runner.submit(spec, { inputs }) }),
    'jobs.outputs': async ({ id }) => {
      if (!runner.get(id)) throw notFound(id);
      return { id, ...listOutputs(outputDir(id)) };
    },
    'jobs.outputFile': async ({ id, path: rel }) => {
      if (!runner.get(id)) throw notFound(id);
      return { id, ...readOutputImage(outputDir(id), rel) };
    },
  };

  return {
    runner,
    handlers,
    async start() {
      // Recovery must not hold the agent's start hostage to a slow or silent engine: wait a few
      // seconds, then let it finish in the background.
      const recovery = runner.recover().then(
        (result) => options.log.info('jobs recovered', result),
        (error: unknown) => options.log.warn('job recovery failed; jobs from before the restart are not re-adopted', { error }),
      );
      await Promise.race([recovery, new Promise((r) => setTimeout(r, 5000).unref())]);
      options.onRunningCount(runner.runningCount());
    },
    async stop() {
      unsubscribe();
      // The runner first: it ends the jobs that had not started (their pull aborted) and waits
      // until each has recorded its end; only then is the database closed under it.
      try {
        await runner.close();
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
