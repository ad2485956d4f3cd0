/**
 * What a way of giving a job's /output does (job-outputs.ts chooses one): the interface that
 * output-host.ts and output-volume.ts implement, apart so that they need not import the chooser.
 */
import type Docker from 'dockerode';
import type { Engine } from '../engine/index.js';
import type { Logger } from '../log.js';

/**
 * What the job's container gets: a host folder to bind, a volume mount, or nothing and why. A
 * volume comes with `ready`: the job's container may be created meanwhile, but started only once
 * it resolved (the keeper then holds the volume).
 */
export type PreparedOutput = { bind: string } | { mount: Docker.MountSettings; ready: Promise<void> } | { unavailable: string };

export interface CollectedOutput {
  files: number;
  bytes: number;
  /** Entries not kept (links, devices, FIFOs…) and why; the first few. */
  skipped: { path: string; reason: string }[];
  /** Why the files could not all be read back, or null. */
  problem: string | null;
}

export interface JobOutputs {
  readonly kind: 'host-tmpfs' | 'volume';
  /** Before the job's container is created: the size-capped folder, empty (an earlier try's is dropped). */
  prepare(jobId: string, sizeMiB: number): Promise<PreparedOutput>;
  /** After the job's container is gone: its files into the job's output folder, and the tmpfs released. */
  collect(jobId: string): Promise<CollectedOutput>;
  /** Releases the tmpfs without keeping its files (a start that never happened, a retry). */
  discard(jobId: string): Promise<void>;
  /** At an agent start: collects the outputs of jobs not in hand that a killed agent left, removes the rest. */
  collectLeftovers(inHand: (jobId: string) => boolean): Promise<void>;
}

export interface JobOutputsOptions {
  docker: Engine;
  agentInstance: string;
  uid: number;
  gid: number;
  /** The job's folder (<home>/jobs/<id>). */
  jobDir: (jobId: string) => string;
  /** Where the jobs' folders are (<home>/jobs). */
  jobsDir: string;
  log: Logger;
}
