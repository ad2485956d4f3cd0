/**
 * Admission: everything that can refuse a job is checked before anything is created (a bad
 * spec, a network the agent cannot make safe, gVisor asked for and missing, more CPUs, memory or
 * GPUs than this machine can give). Returns what the run needs.
 */
import crypto from 'node:crypto';
import { AppError } from '../errors.js';
import type { Gpu } from '../gpu/schema.js';
import type { AssignedGpu } from '../sandbox/container-spec.js';
import { NVIDIA_TOOLKIT_HELP, type EngineFeatures } from '../engine/index.js';
import { assignGpus, processBaseline } from '../sandbox/gpu-assign.js';
import { GVISOR_MISSING_HELP } from '../sandbox/settings.js';
import { parseJobSpec } from './outcome.js';
import type { JobSpec } from './schema.js';

export interface Admission {
  spec: JobSpec;
  gpus: AssignedGpu[];
  baseline: Map<string, Set<number>>;
  useRunsc: boolean;
}

export interface AdmissionContext {
  exists(id: string): boolean;
  /** Null when networked jobs can run, else why not. */
  networkReady(): Promise<string | null>;
  engine(): Promise<EngineFeatures>;
  wantsRunsc(): boolean;
  /** The GPUs that exist now (refreshes GPU health as a side effect). */
  gpus(): Promise<Gpu[]>;
  /** GPUs that cannot be given: out of service, or in use by a job (key → why). */
  unavailableGpus(): Map<string, string>;
  checkNvidiaRuntime: boolean;
}

export async function admit(input: unknown, ctx: AdmissionContext): Promise<Admission> {
  const spec = parseJobSpec(input, () => crypto.randomUUID());
  if (ctx.exists(spec.id)) throw new AppError('invalid-input', `Invalid job: id: a job "${spec.id}" exists already.`);
  if (spec.network !== 'none') {
    const why = await ctx.networkReady();
    if (why) {
      throw new AppError(
        'network-unavailable',
        `This job asks for network access (an allow-list), but ${why}. Without that, a networked job could reach this machine's services or its LAN, so network jobs are refused; jobs with network "none" still run.`,
      );
    }
  }
  const engine = await ctx.engine();
  const useRunsc = ctx.wantsRunsc();
  if (useRunsc && !engine.runsc) throw new AppError('gvisor-missing', GVISOR_MISSING_HELP);
  if (engine.cpus > 0 && spec.cpus > engine.cpus) {
    throw new AppError('invalid-input', `Invalid job: cpus: ${spec.cpus} asked, but this machine has ${engine.cpus} CPUs.`);
  }
  if (engine.memoryBytes > 0 && spec.memoryMiB * 1024 * 1024 > engine.memoryBytes) {
    throw new AppError('invalid-input', `Invalid job: memoryMiB: ${spec.memoryMiB} MiB asked, but this machine has ${Math.floor(engine.memoryBytes / 1024 / 1024)} MiB.`);
  }
  let gpus: AssignedGpu[] = [];
  let baseline = new Map<string, Set<number>>();
  if (spec.gpus !== 0) {
    const all = await ctx.gpus();
    gpus = assignGpus(spec.gpus, all, ctx.unavailableGpus());
    baseline = processBaseline(gpus.map((g) => g.key), all);
    if (gpus.some((g) => g.vendor === 'nvidia') && ctx.checkNvidiaRuntime && !engine.nvidiaRuntime) {
      throw new AppError('nvidia-runtime-missing', NVIDIA_TOOLKIT_HELP);
    }
  }
  return { spec, gpus, baseline, useRunsc };
}
