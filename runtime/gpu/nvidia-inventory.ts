/**
 * NVIDIA inventory: `nvidia-smi -q -x`, read through node-nvidia-smi.
 *
 * node-nvidia-smi (v1.0.0) runs `exec('nvidia-smi -q -x')`: through the shell, found on the PATH
 * of *this process*, with no time limit, a 1 MiB output buffer, and any stderr output treated
 * as failure. It then parses with xml2js `{ explicitArray: false, trim: true }`. So:
 * - when the service runs with this process's PATH (the app, the CLI, `offshift agent`), the
 *   report is read through node-nvidia-smi, raced against a time limit;
 * - when a caller passes an environment with a different PATH (an agent embedded in a test
 *   with a fake tool first on its PATH), node-nvidia-smi cannot see that PATH, so the agent runs
 *   `nvidia-smi -q -x` itself with that environment and parses with the same xml2js options;
 * - when node-nvidia-smi fails, the agent runs the tool once itself to capture what it printed
 *   (nvidia-smi writes "NVIDIA-SMI has failed because…" to stdout, which node-nvidia-smi drops).
 * Both paths end in the same pure parser (nvidia-xml.ts). See docs/gpu.md.
 */
import nvidiaSmi from 'node-nvidia-smi';
import type { Gpu } from './schema.js';
import { parseNvidiaSmiReport } from './nvidia-xml.js';
import { runTool, toolMessage } from './run-tool.js';
import { parseXml } from './xml.js';

export interface VendorReadResult {
  gpus: Gpu[];
  /** Why the tool gave no inventory, in words a person can act on; null on success. */
  error: string | null;
  /** Which code path read it (for the docs and tests). */
  via: 'node-nvidia-smi' | 'spawn' | 'rocm-smi';
}

function viaNodeNvidiaSmi(timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nvidia-smi -q -x did not answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    nvidiaSmi((error, data) => {
      clearTimeout(timer);
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(data);
    });
  });
}

function failed(detail: string): string {
  return `nvidia-smi is installed but failed: ${detail}. The NVIDIA driver may not be loaded: run \`nvidia-smi\` in a terminal to see why, and reinstall the driver or reboot if it fails there too.`;
}

async function viaSpawn(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ report: unknown } | { error: string }> {
  const run = await runTool('nvidia-smi', ['-q', '-x'], env, timeoutMs);
  if (run.failure) return { error: failed(run.failure) };
  if (run.code !== 0) return { error: failed(`exit code ${run.code}: ${toolMessage(run)}`) };
  try {
    return { report: await parseXml(run.stdout) };
  } catch (error) {
    return { error: failed(`its XML report could not be read (${(error as Error).message})`) };
  }
}

export async function readNvidiaInventory(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<VendorReadResult> {
  const sameEnvironment = env === process.env || env.PATH === process.env.PATH;
  let report: unknown;
  let via: VendorReadResult['via'] = 'spawn';
  if (sameEnvironment) {
    try {
      report = await viaNodeNvidiaSmi(timeoutMs);
      via = 'node-nvidia-smi';
    } catch {
      // Run it once more ourselves to say *why* (node-nvidia-smi drops stdout on failure).
      const again = await viaSpawn(env, timeoutMs);
      if ('error' in again) return { gpus: [], error: again.error, via };
      // It worked the second time (a transient failure, or only stderr noise): use that.
      report = again.report;
    }
  } else {
    const result = await viaSpawn(env, timeoutMs);
    if ('error' in result) return { gpus: [], error: result.error, via };
    report = result.report;
  }
  try {
    return { gpus: parseNvidiaSmiReport(report), error: null, via };
  } catch (error) {
    return { gpus: [], error: failed((error as Error).message), via };
  }
}
