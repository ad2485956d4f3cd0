/**
 * A job's /output: a size-capped tmpfs that the job writes, collected into a plain folder
 * (<home>/jobs/<id>/output) when it ends. Two ways to give it, one interface, chosen once by what
 * the agent may do:
 * - the agent may mount (effective CAP_SYS_ADMIN, i.e. root): a tmpfs it mounts on the host and
 *   binds into the container (output-host.ts);
 * - otherwise (the desktop app as a member of the docker group, the system service): a Docker
 *   tmpfs volume held mounted by a small keeper container and read back through the engine's
 *   archive API (output-volume.ts).
 * Both cap the size in the kernel, never follow links, refuse escapes, leave nothing behind, and
 * collect after an agent restart what a killed agent left.
 */
import type Docker from 'dockerode';
import type { Logger } from '../log.js';
import { canMountOutput } from './mount-capability.js';
import { HostOutputs } from './output-host.js';
import { VolumeOutputs } from './output-volume.js';

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
  docker: Docker;
  agentInstance: string;
  uid: number;
  gid: number;
  /** The job's folder (<home>/jobs/<id>). */
  jobDir: (jobId: string) => string;
  /** Where the jobs' folders are (<home>/jobs). */
  jobsDir: string;
  log: Logger;
}

/** The way this agent can give outputs, by what it may do (not by who it is). */
export function chooseJobOutputs(opts: JobOutputsOptions): JobOutputs {
  return canMountOutput() ? new HostOutputs(opts) : new VolumeOutputs(opts);
}
