/**
 * A job run that throws where nothing above handles it (here: the database refuses the job's
 * end and then the failure its own error path records, through a trigger in the real SQLite
 * file): the job must still be marked, its container removed, and the runner let go of it.
 * Before, "job run crashed" was logged and the job stayed `running` with nothing watching it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';

let h: Harness | undefined;

describe.skipIf(skipReason !== null)('a job run that crashes', () => {
  afterAll(async () => {
    await h?.cleanup();
  });

  it('is recorded failed (agent-error) with what it ran, its container removed, and waiters answered', async () => {
    h = makeHarness();
    // The job's own end and the run's error path both fail; only the crash guard's record goes through.
    h.db.exec(`CREATE TRIGGER refuse_end BEFORE UPDATE OF state ON jobs WHEN NEW.reason IN ('exit-0', 'internal-error')
               BEGIN SELECT RAISE(ABORT, 'injected: the database refused this write'); END;`);
    const job = await h.runner.submit({ image: sandboxTestImage(), command: ['sh', '-c', 'sleep 1; echo done'] });
    const done = await Promise.race([h.runner.wait(job.id), new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    expect(done, 'the job was marked').not.toBeNull();
    expect(done).toMatchObject({ state: 'failed', reason: 'agent-error' });
    expect(done!.detail).toMatch(/The agent failed while handling this job \(.*injected.*\) and stopped it\. It ran \d+\.\d s\./);
    expect(done!.usage!.runMs).toBeGreaterThan(500);
    expect(await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${job.id}`] } })).toEqual([]);
    expect(h.runner.runningCount()).toBe(0);
  }, 60_000);
});
