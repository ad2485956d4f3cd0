/**
 * The agent stops while a job's image is being pulled from a registry that never finishes (it
 * answers /v2/ and then holds every request open). The jobs service's stop (what the agent runs
 * on SIGTERM) must abort the pull, record the job's end, and only then close the database: no
 * "job run crashed: the database connection is not open", the job `cancelled` because the
 * agent stopped, no container left, and the next start shows the same.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../runtime/api/events.js';
import { createJobsService, type JobsService } from '../../../runtime/jobs/service.js';
import type { Logger } from '../../../runtime/log.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { skipReason } from './harness.js';

interface Line {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function capturingLogger(lines: Line[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe.skipIf(skipReason !== null)('the agent stops while a job is pulling its image', () => {
  let registry: http.Server;
  let port = 0;
  const held: string[] = [];
  let temp: ReturnType<typeof makeTempHome>;
  const services: JobsService[] = [];

  beforeAll(async () => {
    // A registry that never finishes a pull: the API version check answers, everything else hangs.
    registry = http.createServer((req, res) => {
      if (req.url === '/v2/' || req.url === '/v2') {
        res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' }).end('{}');
        return;
      }
      held.push(`${req.method} ${req.url}`);
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    port = (registry.address() as net.AddressInfo).port;
    temp = makeTempHome('offshift-shutdown-');
  });
  afterAll(async () => {
    for (const s of services) await s.stop().catch(() => {});
    registry?.closeAllConnections();
    registry?.close();
    temp?.cleanup();
  });

  const service = (lines: Line[]) => {
    const s = createJobsService({ home: temp.home, env: process.env, log: capturingLogger(lines), bus: new EventBus(), listGpus: async () => [], onRunningCount: () => {} });
    services.push(s);
    return s;
  };

  it('aborts the pull, records the job cancelled (the agent stopped), then closes the database; a restart shows the same', async () => {
    const lines: Line[] = [];
    const jobs = service(lines);
    await jobs.start();
    const image = `127.0.0.1:${port}/offshift-test/slow@sha256:${'5e'.repeat(32)}`;
    const job = await jobs.runner.submit({ image, command: ['true'] });
    // Mid-pull: the job says so, and the engine is waiting on the registry.
    const deadline = Date.now() + 20_000;
    while (!(jobs.runner.get(job.id)?.state === 'pulling' && held.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(jobs.runner.get(job.id)?.state).toBe('pulling');
    expect(held.length).toBeGreaterThan(0);

    const agentInstance = jobs.runner.agentInstance;
    const t0 = Date.now();
    await jobs.stop();
    const stopMs = Date.now() - t0;
    expect(stopMs).toBeLessThan(10_000); // the pull was aborted, not waited for
    await expect(jobs.runner.submit({ image, command: ['true'] })).rejects.toMatchObject({ code: 'runner-closed' });
    // Whatever was still in flight gets its answer now (the registry goes away): nothing may crash.
    registry.closeAllConnections();
    await new Promise((r) => setTimeout(r, 500));
    expect(lines.filter((l) => l.level === 'error'), JSON.stringify(lines.filter((l) => l.level === 'error'))).toEqual([]);
    expect(lines.some((l) => /crashed/.test(l.msg))).toBe(false);
    const docker = connectDocker();
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${agentInstance}`] } })).toEqual([]);

    // The next start: the end was recorded by the stop itself, so recovery has nothing to add.
    const again: Line[] = [];
    const restarted = service(again);
    await restarted.start();
    const recorded = restarted.runner.get(job.id)!;
    expect(recorded).toMatchObject({ state: 'cancelled', reason: 'agent-stopped' });
    expect(recorded.detail).toMatch(/the agent stopped; the job did not run/);
    expect(recorded.endedAt).not.toBeNull();
    expect(restarted.runner.events(job.id).map((e) => e.state)).toEqual(['queued', 'pulling', 'cancelled']);
    const recovered = again.find((l) => l.msg === 'jobs recovered')?.fields as { lost?: string[] } | undefined;
    expect(recovered?.lost ?? []).not.toContain(job.id);
    await restarted.stop();
  }, 60_000);
});
