/**
 * Fault injection: the Docker engine restarts mid-job. On a private dockerd (never the shared
 * one). The jobs end with a clear state and reason (retried once when young and local; a
 * marketplace job ends cancelled, engine-restarted), and the runner runs the next job.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../../../runtime/jobs/runner.js';
import type { Job } from '../../../runtime/jobs/schema.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { hostBridge, privateDockerdSkipReason, startPrivateDockerd, type PrivateEngine } from '../../helpers/private-dockerd.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';

const skipReason = canBuildTestImage() ?? privateDockerdSkipReason();
if (skipReason) console.warn(`[engine restart] skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('the Docker engine restarts mid-job', () => {
  let engine: PrivateEngine;
  let image: string;
  let temp: ReturnType<typeof makeTempHome>;
  let db: Db;
  let runner: JobRunner;
  // The host's Docker networking must be as it was after this file (the private engine has its own network namespace).
  const bridgeBefore = hostBridge();

  beforeAll(async () => {
    image = sandboxTestImage();
    engine = await startPrivateDockerd();
    engine.load(image);
    temp = makeTempHome('offshift-engine-');
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
    runner = new JobRunner({ db, docker: engine.docker, home: temp.home, graceMs: 1000, engineBackTimeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await runner?.close();
    await engine?.close();
    db?.close();
    temp?.cleanup();
  }, 60_000);

  it('a young local job is retried once from the start; a marketplace job ends cancelled (engine-restarted); the next job runs', async () => {
    const local = await runner.submit({ image, command: ['sh', '-c', 'echo attempt; sleep 3; echo finished'], timeoutSeconds: 60 });
    const market = await runner.submit({ image, marketJobId: 'mkt-1', command: ['sleep', '60'], timeoutSeconds: 120 });
    await until('both jobs running', () => runner.get(local.id)!.state === 'running' && runner.get(market.id)!.state === 'running', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    await engine.restart();

    const [l, m] = (await Promise.all([runner.wait(local.id), runner.wait(market.id)])) as [Job, Job];
    // Not the job's own failure (it used to say: failed, exit 143, killed by signal 15).
    expect(m).toMatchObject({ state: 'cancelled', reason: 'engine-restarted' });
    expect(m.detail).toMatch(/Docker engine restarted/);
    expect(l).toMatchObject({ state: 'succeeded', reason: 'exit-0' });
    const events = runner.events(local.id).map((e) => `${e.state}:${e.reason}`);
    expect(events).toContain('queued:engine-restarted');
    expect(events.filter((e) => e === 'running:started')).toHaveLength(2);
    const log = runner.logs(local.id).text;
    expect(log.match(/attempt/g)).toHaveLength(2);
    expect(log).toContain('the Docker engine restarted');
    expect(log).toContain('finished');

    const next = await runner.submit({ image, command: ['echo', 'next job'] });
    expect(await runner.wait(next.id)).toMatchObject({ state: 'succeeded' });
    // Nothing left behind on the engine.
    expect(await engine.docker.listContainers({ all: true })).toEqual([]);
  }, 120_000);

  it('a job retried once already, or one that ran long, is not retried again', async () => {
    const job = await runner.submit({ image, command: ['sleep', '60'], timeoutSeconds: 120 });
    await until('the job running', () => runner.get(job.id)!.state === 'running', 30_000);
    await engine.restart();
    await until('an engine-restarted event', () => runner.events(job.id).some((e) => e.reason === 'engine-restarted'), 30_000);
    await until('the job running', () => runner.get(job.id)!.state === 'running', 30_000);
    await engine.restart();
    expect(await runner.wait(job.id)).toMatchObject({ state: 'cancelled', reason: 'engine-restarted' });
    expect(await engine.docker.listContainers({ all: true })).toEqual([]);
  }, 120_000);

  it("leaves the host's docker0 bridge as it was (the private engine has a network namespace of its own)", async () => {
    // The engine has started three times by now (once, then two restarts): each start of a
    // dockerd with --bridge=none in the host's namespace deleted docker0.
    await engine.restart();
    expect(hostBridge()).toBe(bridgeBefore);
  }, 120_000);
});
