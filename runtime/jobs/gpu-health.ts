/**
 * GPU health between jobs: a GPU where a job left a process holding memory is taken out of
 * service (with the reason) until that memory is freed; jobs asking for it are refused.
 */
import type { Gpu } from '../gpu/schema.js';
import type { Logger } from '../log.js';
import { gpusBackInService, gpusToTakeOutOfService } from '../sandbox/gpu-assign.js';

export class GpuHealth {
  private readonly outOfService = new Map<string, string>();
  /** For each GPU out of service, the processes that were there before the job that left the leftover. */
  private readonly baselines = new Map<string, ReadonlySet<number>>();

  constructor(
    private readonly listGpus: (() => Promise<Gpu[]>) | undefined,
    private readonly log: Logger,
  ) {}

  /** GPUs out of service, with the reason. */
  get unavailable(): ReadonlyMap<string, string> {
    return this.outOfService;
  }

  /** Puts back in service the GPUs whose leftover memory is gone (from a fresh GPU list). */
  refresh(gpus: readonly Gpu[]): void {
    for (const key of gpusBackInService(this.outOfService, [...gpus], this.baselines)) {
      this.outOfService.delete(key);
      this.baselines.delete(key);
      this.log.info('GPU back in service', { gpu: key });
    }
  }

  /**
   * After a job: takes out of service each of its GPUs where a process that was not there
   * before the job still holds memory (nvidia-smi's process list, via the GPU service).
   */
  async checkAfterJob(gpuKeys: readonly string[], baseline: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    if (!gpuKeys.length || !this.listGpus) return;
    try {
      const taken = gpusToTakeOutOfService(gpuKeys, await this.listGpus(), baseline);
      for (const [key, why] of taken) {
        this.outOfService.set(key, why);
        this.baselines.set(key, baseline.get(key) ?? new Set());
        this.log.warn('GPU out of service', { gpu: key, reason: why });
      }
    } catch (error) {
      this.log.warn('GPU check after a job failed', { error });
    }
  }
}
