/**
 * The whole inventory: NVIDIA (nvidia-smi), AMD (rocm-smi), then anything else from
 * systeminformation, never listing one device twice. With no GPU tool at all the inventory
 * is empty: not an error (the system check says why).
 */
// Only systeminformation's graphics module (lib/graphics.js, which needs only lib/util.js): the
// package's index loads every module it has, about 7 MB more resident memory for the agent.
import siGraphics from 'systeminformation/lib/graphics.js';
import type { Logger } from '../log.js';
import { gpusFromControllers, type GraphicsController } from './generic.js';
import { readNvidiaInventory, type VendorReadResult } from './nvidia-inventory.js';
import { readRocmInventory } from './rocm-inventory.js';
import type { Gpu } from './schema.js';
import { findOnPath } from './which.js';

export type GpuToolName = 'nvidia-smi' | 'rocm-smi';

/** What one vendor tool said during the last inventory: found where, worked or why not. */
export interface GpuToolReport {
  tool: GpuToolName;
  /** Where it is on PATH, or null when it is not installed. */
  path: string | null;
  ok: boolean;
  gpuCount: number;
  /** Why it gave no inventory, in words a person can act on; null when it worked or is absent. */
  error: string | null;
}

export interface Inventory {
  gpus: Gpu[];
  tools: GpuToolReport[];
  /** Set when systeminformation failed or timed out (the vendor tools' GPUs are still listed). */
  genericError: string | null;
}

export interface InventoryOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  toolTimeoutMs?: number;
  genericTimeoutMs?: number;
  /** systeminformation's graphics(); replaceable so the merge can be tested on its own. */
  graphics?: () => Promise<{ controllers: GraphicsController[] }>;
}

/** systeminformation's graphics(): lspci, clinfo, xrandr… on Linux, PowerShell on Windows. */
export const systemGraphics = (): Promise<{ controllers: GraphicsController[] }> => siGraphics.graphics();

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function readTool(
  tool: GpuToolName,
  env: NodeJS.ProcessEnv,
  read: (env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<VendorReadResult>,
  timeoutMs: number,
): Promise<{ report: GpuToolReport; gpus: Gpu[] }> {
  const path = findOnPath(tool, env);
  if (!path) return { report: { tool, path: null, ok: false, gpuCount: 0, error: null }, gpus: [] };
  const result = await read(env, timeoutMs);
  return { report: { tool, path, ok: result.error === null, gpuCount: result.gpus.length, error: result.error }, gpus: result.gpus };
}

export async function readInventory(options: InventoryOptions): Promise<Inventory> {
  const toolTimeoutMs = options.toolTimeoutMs ?? 20_000;
  const [nvidia, amd] = await Promise.all([
    readTool('nvidia-smi', options.env, readNvidiaInventory, toolTimeoutMs),
    readTool('rocm-smi', options.env, readRocmInventory, toolTimeoutMs),
  ]);
  const vendorGpus = [...nvidia.gpus, ...amd.gpus];
  for (const report of [nvidia.report, amd.report]) {
    if (report.error) options.log.warn('gpu tool failed', { tool: report.tool, error: report.error });
  }
  let generic: Gpu[] = [];
  let genericError: string | null = null;
  try {
    const graphics = options.graphics ?? systemGraphics;
    const { controllers } = await withTimeout(graphics(), options.genericTimeoutMs ?? 8_000, 'systeminformation graphics()');
    generic = gpusFromControllers(controllers, vendorGpus);
  } catch (error) {
    genericError = (error as Error).message;
    options.log.warn('generic GPU detection failed', { error: genericError });
  }
  return { gpus: [...vendorGpus, ...generic], tools: [nvidia.report, amd.report], genericError };
}
