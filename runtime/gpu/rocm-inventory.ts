import { parseRocmSmiReport, parseRocmSmiText } from './rocm-json.js';
import type { VendorReadResult } from './nvidia-inventory.js';
import { runTool, toolMessage } from './run-tool.js';

/** The flags for the inventory; always with --json (the text output is not stable). */
export const ROCM_INVENTORY_ARGS = ['--showallinfo', '--json'];

function failed(detail: string): string {
  return `rocm-smi is installed but failed: ${detail}. Run \`rocm-smi\` in a terminal to see why; the amdgpu driver or ROCm may need reinstalling.`;
}

export async function readRocmInventory(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<VendorReadResult> {
  const run = await runTool('rocm-smi', ROCM_INVENTORY_ARGS, env, timeoutMs);
  if (run.failure) return { gpus: [], error: failed(run.failure), via: 'rocm-smi' };
  if (run.code !== 0) return { gpus: [], error: failed(`exit code ${run.code}: ${toolMessage(run)}`), via: 'rocm-smi' };
  try {
    return { gpus: parseRocmSmiReport(parseRocmSmiText(run.stdout)), error: null, via: 'rocm-smi' };
  } catch (error) {
    return { gpus: [], error: failed(`its JSON could not be read (${(error as Error).message})`), via: 'rocm-smi' };
  }
}
