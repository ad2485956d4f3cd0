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
import { canMountOutput } from './mount-capability.js';
import { HostOutputs } from './output-host.js';
import { VolumeOutputs } from './output-volume.js';
import type { JobOutputs, JobOutputsOptions } from './job-outputs-contract.js';

export type { CollectedOutput, JobOutputs, JobOutputsOptions, PreparedOutput } from './job-outputs-contract.js';

/** The way this agent can give outputs, by what it may do (not by who it is). */
export function chooseJobOutputs(opts: JobOutputsOptions): JobOutputs {
  return canMountOutput() ? new HostOutputs(opts) : new VolumeOutputs(opts);
}
