/**
 * GPUs no vendor tool reported (Intel, Apple, AMD without ROCm, NVIDIA without a working
 * nvidia-smi), from systeminformation's graphics(). Pure: the controllers come in, GPUs go out.
 */
import type { Gpu, GpuVendor } from './schema.js';
import { cleanText } from './values.js';

/** The fields of systeminformation's GraphicsControllerData that are read here. */
export interface GraphicsController {
  vendor?: string;
  model?: string;
  name?: string;
  bus?: string;
  busAddress?: string;
  pciBus?: string;
  vram?: number | null;
  vramDynamic?: boolean;
  driverVersion?: string;
  memoryTotal?: number;
  memoryUsed?: number;
  utilizationGpu?: number;
  temperatureGpu?: number;
  powerDraw?: number;
  powerLimit?: number;
}

export function vendorOf(text: string): GpuVendor {
  if (/nvidia/i.test(text)) return 'nvidia';
  if (/advanced micro devices|\bamd\b|\bati\b|radeon/i.test(text)) return 'amd';
  if (/intel/i.test(text)) return 'intel';
  if (/apple/i.test(text)) return 'apple';
  return 'other';
}

/** Display-only adapters (server BMCs, virtual machines' consoles): never offered for compute. */
const DISPLAY_ONLY = /aspeed|matrox|cirrus|vmware|virtualbox|qxl|red hat|bochs|hyper-v|microsoft basic|basic display|parallels|virtio|llvmpipe|mga g200/i;

/** "00000000:01:00.0", "0000:01:00.0", "01:00.0" → "0000:01:00.0" (lower case); null if not a PCI address. */
export function normalizePciBusId(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])\s*$/i.exec(value.trim());
  if (!match) return null;
  const domain = (match[1] ?? '0').toLowerCase().replace(/^0+/, '').padStart(4, '0');
  return `${domain}:${match[2]!.toLowerCase().padStart(2, '0')}:${match[3]!.toLowerCase().padStart(2, '0')}.${match[4]}`;
}

function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\b(nvidia|amd|ati|corporation|inc\.?|advanced micro devices)\b/g, '').replace(/[^a-z0-9]+/g, ' ').trim();
  const x = norm(a);
  const y = norm(b);
  return x.length > 0 && y.length > 0 && (x.includes(y) || y.includes(x));
}

/** True when `gpu` (from a vendor tool) is the same device as the controller. */
export function isSameDevice(gpu: Gpu, controller: GraphicsController): boolean {
  const controllerPci = normalizePciBusId(controller.pciBus ?? controller.busAddress ?? null);
  const gpuPci = normalizePciBusId(gpu.pciBusId);
  // systeminformation's Linux busAddress has no domain: compare bus:device.function then.
  if (controllerPci && gpuPci) {
    const hasDomain = /^[0-9a-f]+:[0-9a-f]+:/i.test((controller.pciBus ?? controller.busAddress ?? '').trim());
    return hasDomain ? controllerPci === gpuPci : controllerPci.slice(5) === gpuPci.slice(5);
  }
  const vendor = vendorOf(`${controller.vendor ?? ''} ${controller.model ?? ''}`);
  return vendor === gpu.vendor && sameName(gpu.name, controller.name ?? controller.model ?? '');
}

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The controllers that no vendor tool already listed, as GPUs. */
export function gpusFromControllers(controllers: readonly GraphicsController[], alreadyFound: readonly Gpu[]): Gpu[] {
  const out: Gpu[] = [];
  controllers.forEach((controller, index) => {
    const label = `${controller.vendor ?? ''} ${controller.model ?? ''} ${controller.name ?? ''}`;
    if (DISPLAY_ONLY.test(label)) return;
    if (alreadyFound.some((gpu) => isSameDevice(gpu, controller))) return;
    const name = cleanText(controller.name) ?? cleanText(controller.model) ?? cleanText(controller.vendor) ?? 'GPU';
    out.push({
      index,
      uuid: null,
      vendor: vendorOf(label),
      name,
      memoryTotalMiB: num(controller.memoryTotal) ?? num(controller.vram),
      driverVersion: cleanText(controller.driverVersion),
      cudaVersion: null,
      pciBusId: cleanText(controller.pciBus) ?? cleanText(controller.busAddress),
      migMode: null,
      migDevices: [],
      processes: [],
      temperatureC: num(controller.temperatureGpu),
      utilizationPct: num(controller.utilizationGpu),
      memoryUsedMiB: num(controller.memoryUsed),
      powerDrawW: num(controller.powerDraw),
      powerLimitW: num(controller.powerLimit),
    });
  });
  return out;
}
