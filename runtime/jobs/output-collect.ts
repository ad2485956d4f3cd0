/**
 * A finished job's /output read back into its folder (<home>/jobs/<id>/output). A full disk
 * keeps it in its tmpfs (memory, capped by the job's outputMiB) until space returns.
 */
import { isDiskFull } from '../storage/disk-full.js';
import type { Active } from './active.js';
import type { RunnerCore } from './core.js';

export async function collectOutput(core: RunnerCore, a: Active): Promise<void> {
  try {
    await collectOnce(core, a);
  } catch (error) {
    if (!isDiskFull(error)) return core.log.warn('job output collection failed', { id: a.id, error });
    core.outputsHeld.add(a.id);
    core.log.warn('the disk is full: the job output stays in its tmpfs and is collected once space returns', { id: a.id });
    core.deferred.keep({
      jobId: a.id,
      what: 'its /output',
      run: async () => {
        await collectOnce(core, a);
        core.outputsHeld.delete(a.id);
      },
    });
  }
}

/** One collection; what was not kept is said in the job's log. */
async function collectOnce(core: RunnerCore, a: Active): Promise<void> {
  const collected = await core.outputs.collect(a.id);
  if (collected.files) core.log.info('job output collected', { id: a.id, files: collected.files, bytes: collected.bytes });
  const notes = collected.skipped.map((s) => `[offshift] /output: ${s.path} not kept: ${s.reason}\n`);
  if (collected.problem) notes.push(`[offshift] /output: ${collected.problem}\n`);
  for (const note of notes.slice(0, 20)) core.systemLog(a, note);
  if (collected.problem) core.log.warn('job output partly collected', { id: a.id, problem: collected.problem });
}
