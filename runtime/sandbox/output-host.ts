/**
 * /output for an agent that may mount (CAP_SYS_ADMIN): a tmpfs it mounts on the host at
 * <home>/jobs/<id>/output and binds into the container, copied into a plain folder and unmounted
 * when the job ends (job-files.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { collectOutput, isMountPoint, mountOutput, unmountOutput } from './job-files.js';
import type { CollectedOutput, JobOutputs, JobOutputsOptions, PreparedOutput } from './job-outputs-contract.js';

export class HostOutputs implements JobOutputs {
  readonly kind = 'host-tmpfs' as const;

  constructor(private readonly opts: JobOutputsOptions) {}

  private dir(jobId: string): string {
    return path.join(this.opts.jobDir(jobId), 'output');
  }

  async prepare(jobId: string, sizeMiB: number): Promise<PreparedOutput> {
    const dir = this.dir(jobId);
    await mountOutput(dir, sizeMiB, this.opts.uid, this.opts.gid);
    return { bind: dir };
  }

  async collect(jobId: string): Promise<CollectedOutput> {
    const { files, bytes } = await collectOutput(this.dir(jobId));
    return { files, bytes, skipped: [], problem: null };
  }

  async discard(jobId: string): Promise<void> {
    await unmountOutput(this.dir(jobId));
  }

  /**
   * A job ends, is recorded, and only then is its /output collected: an agent killed in between
   * leaves a finished job's tmpfs mounted. Collect those now, so the files are kept and nothing
   * stays mounted.
   */
  async collectLeftovers(inHand: (jobId: string) => boolean): Promise<void> {
    let ids: string[];
    try {
      ids = fs.readdirSync(this.opts.jobsDir);
    } catch {
      return;
    }
    for (const id of ids) {
      if (inHand(id)) continue;
      const dir = this.dir(id);
      if (!(await isMountPoint(dir))) continue;
      try {
        const collected = await collectOutput(dir);
        this.opts.log.info('output of a job that ended before the restart collected', { id, ...collected });
      } catch (error) {
        this.opts.log.warn('collecting a left output failed; unmounting it', { id, error });
        await unmountOutput(dir).catch(() => {});
      }
    }
  }
}
