// The jobs.* commands over the runner, the job store, the retention rule and the job folders
// (and the images.* commands, from images/handlers.ts).
import path from 'node:path';
import type { Handlers } from '../api/contract.js';
import { AppError } from '../errors.js';
import { createImageHandlers, type ImageHandlers } from '../images/handlers.js';
import type { ImageService } from '../images/service.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { SettingsStore } from '../settings/store.js';
import { listOutputs, readOutputImage } from './outputs.js';
import type { Retention } from './retention.js';
import type { RetentionView } from './retention-schema.js';
import { checkRetentionPatch, effectiveRetention } from './retention-settings.js';
import type { JobRunner } from './runner.js';
import { listPage, type JobStore } from './store.js';

export type JobHandlers = Pick<Handlers, 'jobs.list' | 'jobs.get' | 'jobs.logs' | 'jobs.cancel' | 'jobs.run' | 'jobs.outputs' | 'jobs.outputFile' | 'jobs.retention'> & ImageHandlers;

/** How many of a job's state changes jobs.get returns (the newest). */
export const JOB_EVENTS_SHOWN = 200;

/** What the handlers answer from. */
export interface JobHandlersContext {
  home: string;
  runner: JobRunner;
  store: JobStore;
  retention: Retention;
  retentionView: () => RetentionView;
  images: ImageService;
  settings: { store: SettingsStore; policy: () => LoadedPolicy } | undefined;
}

export function createJobHandlers(ctx: JobHandlersContext): JobHandlers {
  const { runner, store, retention, settings } = ctx;
  // The runner's ids are checked at submit (letters, digits, _ . -), so this stays in <home>/jobs.
  const outputDir = (id: string) => path.join(ctx.home, 'jobs', id, 'output');
  return {
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
      return ctx.retentionView();
    },
    ...createImageHandlers(ctx.images, settings),
  };
}

function notFound(id: string): AppError {
  return new AppError('not-found', `There is no job "${id}". \`offshift job list\` shows the jobs this agent knows.`);
}
