/**
 * Pure GPU decisions: which GPUs a job gets, and whether a GPU must leave service after a job.
 */
import { AppError } from '../errors.js';
import type { Gpu } from '../gpu/schema.js';
import type { GpuRequest } from '../jobs/schema.js';
import type { AssignedGpu } from './container-spec.js';

/** How the ledger and job_gpus name a GPU: its UUID, or vendor + index when it has none. */
export function gpuKey(gpu: Pick<Gpu, 'uuid' | 'vendor' | 'index'>): string {
  return gpu.uuid ?? `${gpu.vendor}:${gpu.index}`;
}

function toAssigned(gpu: Gpu): AssignedGpu {
  if (gpu.vendor === 'nvidia' && gpu.uuid) return { vendor: 'nvidia', key: gpuKey(gpu), uuid: gpu.uuid };
  if (gpu.vendor === 'amd') return { vendor: 'amd', key: gpuKey(gpu), renderNode: `/dev/dri/renderD${128 + gpu.index}` };
  throw new AppError('gpu-unsupported', `GPU ${gpu.index} (${gpu.name}) cannot be passed to a container: only NVIDIA GPUs with a UUID and AMD GPUs are supported.`);
}

/**
 * Picks GPUs for a request from those that exist, skipping the ones out of service and the
 * ones busy with another job. Refuses (before anything is created) a request for more GPUs
 * than exist, for a UUID that does not exist, or for GPUs that are all taken.
 */
export function assignGpus(
  request: GpuRequest,
  gpus: readonly Gpu[],
  unavailable: ReadonlyMap<string, string>,
): AssignedGpu[] {
  if (request === 0) return [];
  const usable = (g: Gpu) => !unavailable.has(gpuKey(g));
  if (Array.isArray(request)) {
    return request.map((uuid) => {
      const gpu = gpus.find((g) => g.uuid === uuid);
      if (!gpu) throw new AppError('invalid-input', `Invalid job: gpus: there is no GPU ${uuid} on this machine (${gpus.length} GPU${gpus.length === 1 ? '' : 's'}: ${gpus.map((g) => g.uuid ?? g.index).join(', ') || 'none'}).`);
      const why = unavailable.get(gpuKey(gpu));
      if (why) throw new AppError('gpu-unavailable', `GPU ${uuid} is not available: ${why}`);
      return toAssigned(gpu);
    });
  }
  if (request === 'all') {
    if (gpus.length === 0) throw new AppError('invalid-input', 'Invalid job: gpus: "all" asked, but this machine has no GPU.');
    const busy = gpus.filter((g) => !usable(g));
    if (busy.length) throw new AppError('gpu-unavailable', `Not every GPU is available: ${busy.map((g) => `${gpuKey(g)}: ${unavailable.get(gpuKey(g))}`).join('; ')}`);
    return gpus.map(toAssigned);
  }
  if (request > gpus.length) {
    throw new AppError('invalid-input', `Invalid job: gpus: ${request} asked, but this machine has ${gpus.length} GPU${gpus.length === 1 ? '' : 's'}.`);
  }
  const free = gpus.filter(usable);
  if (free.length < request) {
    throw new AppError('gpu-unavailable', `Only ${free.length} of ${gpus.length} GPUs are available now (${[...unavailable.values()].join('; ')}); the job asks for ${request}.`);
  }
  return free.slice(0, request).map(toAssigned);
}

/** The compute processes on each GPU before a job starts: they are not the job's leftovers. */
export function processBaseline(jobGpuKeys: readonly string[], gpus: readonly Gpu[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const key of jobGpuKeys) out.set(key, new Set(gpus.find((g) => gpuKey(g) === key)?.processes.map((p) => p.pid) ?? []));
  return out;
}

/**
 * After a job: which of its GPUs have a process holding memory that was not there before the
 * job started (a leftover of the job, or something that crept in), and must leave service
 * until that memory is freed. Processes from before the job (the desktop's own) do not count.
 */
export function gpusToTakeOutOfService(
  jobGpuKeys: readonly string[],
  gpus: readonly Gpu[],
  baseline: ReadonlyMap<string, ReadonlySet<number>> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of jobGpuKeys) {
    const gpu = gpus.find((g) => gpuKey(g) === key);
    if (!gpu) continue;
    const before = baseline.get(key);
    const holders = gpu.processes.filter((p) => !before?.has(p.pid) && (p.usedMemoryMiB === null || p.usedMemoryMiB > 0));
    if (holders.length === 0) continue;
    const list = holders.map((p) => `${p.name} (pid ${p.pid}${p.usedMemoryMiB === null ? '' : `, ${p.usedMemoryMiB} MiB`})`).join(', ');
    out.set(key, `Out of service: after the last job, ${list} still hold${holders.length === 1 ? 's' : ''} memory on this GPU. It returns to service when that memory is freed.`);
  }
  return out;
}

/** Of the GPUs out of service, those that are clean again (only their pre-job processes left). */
export function gpusBackInService(
  outOfService: ReadonlyMap<string, string>,
  gpus: readonly Gpu[],
  baselines: ReadonlyMap<string, ReadonlySet<number>> = new Map(),
): string[] {
  return [...outOfService.keys()].filter((key) => {
    const gpu = gpus.find((g) => gpuKey(g) === key);
    return gpu !== undefined && gpusToTakeOutOfService([key], [gpu], baselines).size === 0;
  });
}
