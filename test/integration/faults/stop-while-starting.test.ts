/**
 * The agent stopped (what SIGTERM does: the runner's close) while a job is `starting`, at the
 * worst moment: its container is being started. The job then runs until it is stopped, and its
 * record must say what is true: it ran, for how long; never "the job did not run". Real engine.
 */
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';

let h: Harness | undefined;

describe.skipIf(skipReason !== null)('stopped while starting', () => {
  afterAll(async () => {
    await h?.cleanup();
  });

  it('a job whose container started as the agent stopped: its record says it ran and for how long', async () => {
    let onStart: () => void = () => {};
    // The real engine; the test only picks the moment: the stop arrives while the container starts.
    const real = (await import('../../../runtime/engine/index.js')).connectDocker();
    const docker = new Proxy(real, {
      get(target, prop) {
        if (prop === 'createContainer') {
          return async (options: Docker.ContainerCreateOptions) => {
            const container = await target.createContainer(options);
            const start = container.start.bind(container);
            container.start = (async (...args: unknown[]) => {
              onStart();
              const started = await (start as (...a: unknown[]) => Promise<unknown>)(...args);
              // Under load the start takes a while: the job runs a little before its stop lands.
              await new Promise((r) => setTimeout(r, 1500));
              return started;
            }) as typeof container.start;
            return container;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    h = makeHarness({ docker });
    const runner = h.runner;
    let closing: Promise<void> | null = null;
    onStart = () => {
      closing = runner.close();
    };
    const job = await runner.submit({ image: sandboxTestImage(), command: ['sh', '-c', 'echo started; sleep 30'] });
    const done = await runner.wait(job.id);
    await closing;
    expect(done).toMatchObject({ state: 'cancelled', reason: 'agent-stopped' });
    expect(done.startedAt).not.toBeNull();
    expect(done.usage!.runMs).toBeGreaterThan(0);
    expect(done.detail).not.toMatch(/did not run/);
    expect(done.detail).toMatch(/^Cancelled: the agent stopped\. It ran \d+\.\d s before it was stopped\.$/);
    const seconds = Number(/It ran (\d+\.\d) s/.exec(done.detail)![1]);
    expect(Math.abs(seconds * 1000 - done.usage!.runMs)).toBeLessThan(100);
    expect(runner.events(job.id).map((e) => e.state)).toEqual(['queued', 'pulling', 'starting', 'running', 'stopping', 'cancelled']);
  }, 60_000);
});
