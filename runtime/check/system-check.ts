/**
 * `system.check` / `offshift check`: each prerequisite for earning, as pass / warn / fail with a
 * sentence a person can act on: the machine's items (system/check.ts), the GPU passthrough the
 * benchmark proved (bench/check-item.ts) and the admin policy. Nothing here can hang: the Docker
 * probe is time-boxed and the GPU tools have their own time limits.
 */
import { benchPassthroughCheckItem } from '../bench/check-item.js';
import type { GpuService } from '../gpu/service.js';
import { policyCheckItem } from '../policy/check-item.js';
import { loadPolicy } from '../policy/load.js';
import { policyFilePath } from '../policy/paths.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { containerGpuItem, diskItem, dockerItem, gpuDriverItem, wslItem } from '../system/check.js';
import { probeDocker } from '../engine/index.js';
import type { CheckItem, SystemCheck } from '../system/schema.js';

export interface SystemCheckOptions {
  env: NodeJS.ProcessEnv;
  home: string;
  gpu: GpuService;
  dockerTimeoutMs?: number;
  platform?: NodeJS.Platform;
  /** The admin policy as the agent watches it; default: read the policy file now. */
  policy?: LoadedPolicy;
}

export async function runSystemCheck(opts: SystemCheckOptions): Promise<SystemCheck> {
  const platform = opts.platform ?? process.platform;
  const [gpus, probe, disk, wsl] = await Promise.all([
    opts.gpu.list(),
    probeDocker({ env: opts.env, timeoutMs: opts.dockerTimeoutMs ?? 3000 }),
    diskItem(opts.home),
    platform === 'win32' ? wslItem() : Promise.resolve(null),
  ]);
  const tools = await opts.gpu.tools();
  const items: CheckItem[] = [gpuDriverItem(gpus, tools), dockerItem(probe), containerGpuItem(gpus, probe), disk];
  if (wsl) items.push(wsl);
  // GPU passthrough, proven by the benchmark run inside the job container (shown once one has run).
  const passthrough = benchPassthroughCheckItem(opts.home);
  if (passthrough) items.push(passthrough);
  items.push(policyCheckItem(opts.policy ?? loadPolicy(policyFilePath(opts.env, platform))));
  return { checkedAt: new Date().toISOString(), items };
}
