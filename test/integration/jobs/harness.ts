/** A real runner on the real engine, over a fresh data folder and database, for one test file. */
import path from 'node:path';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { JobRunner, type RunnerOptions } from '../../../runtime/jobs/runner.js';
import type { JobLogEvent } from '../../../runtime/jobs/schema.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { openDatabase, DATABASE_FILE, type Db } from '../../../runtime/storage/database.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage } from '../../helpers/test-images.js';

export const skipReason = canBuildTestImage();
if (skipReason) console.warn(`[jobs integration] skipped: ${skipReason}`);

export interface Harness {
  home: string;
  db: Db;
  runner: JobRunner;
  logs: JobLogEvent[];
  docker: ReturnType<typeof connectDocker>;
  /** Another runner over the same home (a restarted agent). */
  reopen(extra?: Partial<RunnerOptions>): JobRunner;
  cleanup(): Promise<void>;
}

export function makeHarness(extra: Partial<RunnerOptions> & { gpus?: Gpu[] } = {}): Harness {
  const { home, cleanup } = makeTempHome('offshift-jobs-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const docker = connectDocker();
  const logs: JobLogEvent[] = [];
  const make = (more: Partial<RunnerOptions> = {}) =>
    new JobRunner({ db, docker, home, graceMs: 1000, onLog: (e) => logs.push(e), listGpus: async () => extra.gpus ?? [], ...extra, ...more });
  const runners: JobRunner[] = [];
  const runner = make();
  runners.push(runner);
  return {
    home,
    db,
    runner,
    logs,
    docker,
    reopen(more) {
      const r = make(more);
      runners.push(r);
      return r;
    },
    async cleanup() {
      for (const r of runners) await r.close();
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${runner.agentInstance}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      // With no container left, closing again removes the egress network and its firewall rule.
      for (const r of runners) await r.close();
      db.close();
      cleanup();
    },
  };
}
