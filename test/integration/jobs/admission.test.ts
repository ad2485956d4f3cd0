/**
 * The runner admits every job against what is committed (runtime/jobs/reservations.ts), not
 * alone: ten local jobs submitted at once on a machine with N CPUs, one CPU each, run at most N
 * at a time; a job is refused while an accepted marketplace offer holds the CPUs; a job's
 * reservation is released when it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from './harness.js';

describe.skipIf(skipReason !== null)('admission against what is committed', () => {
  let h: Harness;
  let image: string;
  beforeAll(() => {
    image = sandboxTestImage();
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('runs no more local jobs at once than the CPUs allow when they are submitted together', async () => {
    const capacity = { cpus: ((await h.docker.info()) as { NCPU: number }).NCPU };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => h.runner.submit({ image, command: ['sleep', '2'], cpus: 1, memoryMiB: 64, timeoutSeconds: 30 })));
    const taken = results.filter((r) => r.status === 'fulfilled');
    expect(taken.length).toBe(Math.floor(capacity.cpus));
    for (const r of results.filter((x) => x.status === 'rejected')) {
      const error = (r as PromiseRejectedResult).reason as AppError;
      expect(error.code).toBe('no-capacity');
      expect(error.message).toMatch(new RegExp(`^Not started: 1 CPUs asked, 0 of ${capacity.cpus} free\\. Running jobs and accepted marketplace offers hold the rest; try again when one ends\\.$`));
    }
    const running = await h.docker.listContainers({ filters: { label: [`${LABEL_AGENT}=${h.runner.agentInstance}`] } });
    expect(running.length).toBeLessThanOrEqual(Math.floor(capacity.cpus));
    await Promise.all(taken.map((r) => h.runner.wait((r as PromiseFulfilledResult<{ id: string }>).value.id)));
    expect(h.runner.reservations.list()).toEqual([]);
  }, 60_000);

  it('refuses a local job while an accepted offer holds the CPUs, and takes it once the offer lets go', async () => {
    const capacity = await h.runner.capacity();
    expect(h.runner.reservations.take('offer:held', { kind: 'offer', gpus: 0, cpus: capacity.cpus, memoryMiB: 64, diskMiB: 1 }, capacity).ok).toBe(true);
    await expect(h.runner.submit({ image, command: ['true'], cpus: 0.5, memoryMiB: 64 })).rejects.toThrow(/Not started: 0.5 CPUs asked, 0 of \d+ free/);
    h.runner.reservations.release('offer:held');
    const job = await h.runner.submit({ image, command: ['true'], cpus: 0.5, memoryMiB: 64 });
    expect(h.runner.reservations.get(job.id)).toMatchObject({ kind: 'local', cpus: 0.5 });
    expect((await h.runner.wait(job.id)).state).toBe('succeeded');
    expect(h.runner.reservations.has(job.id)).toBe(false);
  }, 60_000);
});
