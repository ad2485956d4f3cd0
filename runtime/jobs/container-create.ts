// A job's hardened container created on the engine: its egress lease, its /output, the container
// spec (sandbox/container-spec.ts) with the runner's labels; the container's id recorded.
import path from 'node:path';
import { createContainer, type EngineContainer } from '../engine/index.js';
import { buildContainerSpec } from '../sandbox/container-spec.js';
import type { PreparedOutput } from '../sandbox/job-outputs.js';
import { LABEL_GPUS, type Active } from './active.js';
import type { RunnerCore } from './core.js';

export async function createJobContainer(core: RunnerCore, a: Active, imageId: string): Promise<{ container: EngineContainer; output: PreparedOutput | null }> {
  const lease = a.spec.network === 'none' ? null : await core.egress.lease(a.id, a.spec.network.allow);
  a.egressIp = lease?.ip ?? null;
  const output = a.spec.outputMiB > 0 ? await core.outputs.prepare(a.id, a.spec.outputMiB) : null;
  if (output && 'unavailable' in output) core.systemLog(a, `[offshift] no /output folder: ${output.unavailable} Write to /scratch instead.\n`);
  const createOptions = buildContainerSpec({ ...a.spec, image: imageId }, a.gpus, {
    ...core.policy,
    useRunsc: a.useRunsc,
    inputDir: path.join(core.jobDir(a.id), 'input'),
    egress: lease,
    outputDir: output && 'bind' in output ? output.bind : null,
  });
  // A Docker tmpfs volume (an agent that may not mount): beside the container spec's own mounts.
  if (output && 'mount' in output) createOptions.HostConfig = { ...createOptions.HostConfig, Mounts: [...(createOptions.HostConfig?.Mounts ?? []), output.mount] };
  // The assigned GPUs with their vendor, for a restarted agent that re-adopts the job.
  if (a.gpus.length) createOptions.Labels = { ...createOptions.Labels, [LABEL_GPUS]: JSON.stringify(a.gpus) };
  const container = await createContainer(core.options.docker, createOptions);
  a.containerId = container.id;
  core.update(a.id, { containerId: container.id });
  return { container, output };
}
