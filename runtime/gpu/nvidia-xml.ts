/**
 * Pure parser of `nvidia-smi -q -x`, as node-nvidia-smi hands it over: the XML turned into
 * plain objects by xml2js with `{ explicitArray: false, trim: true }` (one child → object,
 * repeated children → array, text-only elements → string, attributes under `$`).
 *
 * The XML has changed across drivers (DTD v9 … v13): power readings moved from
 * `power_readings/power_draw` + `power_limit` to `gpu_power_readings/instant_power_draw` +
 * `current_power_limit`; `cuda_version` exists only from driver ~410; MIG only on A100/H100-class
 * parts. Every field here is read from the first name that holds a value.
 */
import type { Gpu } from './schema.js';
import { cleanText, intIn, numberIn } from './values.js';

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A child element, or undefined. */
export function child(node: unknown, ...names: string[]): unknown {
  let current: unknown = node;
  for (const name of names) {
    if (!isNode(current)) return undefined;
    current = current[name];
  }
  return current;
}

/** Text content of an element (xml2js puts it under `_` when the element has attributes). */
function textOf(value: unknown): unknown {
  if (isNode(value) && typeof value._ === 'string') return value._;
  return value;
}

/** The children under one name as a list, whatever xml2js made of them. */
export function list(value: unknown): Node[] {
  if (Array.isArray(value)) return value.filter(isNode);
  return isNode(value) ? [value] : [];
}

function firstNumber(node: unknown, paths: string[][]): number | null {
  for (const path of paths) {
    const n = numberIn(textOf(child(node, ...path)));
    if (n !== null) return n;
  }
  return null;
}

function text(node: unknown, ...path: string[]): string | null {
  return cleanText(textOf(child(node, ...path)));
}

function migMode(gpu: Node): Gpu['migMode'] {
  const current = text(gpu, 'mig_mode', 'current_mig')?.toLowerCase();
  return current === 'enabled' ? 'enabled' : current === 'disabled' ? 'disabled' : null;
}

function migDevices(gpu: Node): Gpu['migDevices'] {
  return list(child(gpu, 'mig_devices', 'mig_device')).flatMap((device) => {
    const gpuInstanceId = intIn(textOf(device.gpu_instance_id));
    if (gpuInstanceId === null) return [];
    return [
      {
        gpuInstanceId,
        memoryTotalMiB: numberIn(textOf(child(device, 'fb_memory_usage', 'total'))),
        multiprocessorCount: intIn(textOf(child(device, 'device_attributes', 'shared', 'multiprocessor_count'))),
      },
    ];
  });
}

function processes(gpu: Node): Gpu['processes'] {
  return list(child(gpu, 'processes', 'process_info')).flatMap((p) => {
    const pid = intIn(textOf(p.pid));
    if (pid === null) return [];
    return [{ pid, name: cleanText(textOf(p.process_name)) ?? '', usedMemoryMiB: numberIn(textOf(p.used_memory)) }];
  });
}

const POWER_SECTIONS = ['gpu_power_readings', 'power_readings'];

function powerDraw(gpu: Node): number | null {
  const paths = POWER_SECTIONS.flatMap((s) => [
    [s, 'power_draw'],
    [s, 'instant_power_draw'],
    [s, 'average_power_draw'],
  ]);
  return firstNumber(gpu, paths);
}

function powerLimit(gpu: Node): number | null {
  const paths = POWER_SECTIONS.flatMap((s) => [
    [s, 'current_power_limit'],
    [s, 'power_limit'],
    [s, 'enforced_power_limit'],
  ]);
  return firstNumber(gpu, paths);
}

/** Every GPU in one `nvidia-smi -q -x` report, in nvidia-smi's own index order. */
export function parseNvidiaSmiReport(report: unknown): Gpu[] {
  const log = child(report, 'nvidia_smi_log');
  if (!isNode(log)) {
    throw new Error('not an nvidia-smi XML report (no <nvidia_smi_log> element)');
  }
  const driverVersion = text(log, 'driver_version');
  const cudaVersion = text(log, 'cuda_version');
  return list(log.gpu).map((gpu, index): Gpu => {
    const attrs = child(gpu, '$');
    return {
      index,
      uuid: text(gpu, 'uuid'),
      vendor: 'nvidia',
      name: text(gpu, 'product_name') ?? 'NVIDIA GPU',
      memoryTotalMiB: numberIn(textOf(child(gpu, 'fb_memory_usage', 'total'))),
      driverVersion,
      cudaVersion,
      pciBusId: text(gpu, 'pci', 'pci_bus_id') ?? text(attrs, 'id'),
      migMode: migMode(gpu),
      migDevices: migDevices(gpu),
      processes: processes(gpu),
      temperatureC: numberIn(textOf(child(gpu, 'temperature', 'gpu_temp'))),
      utilizationPct: numberIn(textOf(child(gpu, 'utilization', 'gpu_util'))),
      memoryUsedMiB: numberIn(textOf(child(gpu, 'fb_memory_usage', 'used'))),
      powerDrawW: powerDraw(gpu),
      powerLimitW: powerLimit(gpu),
    };
  });
}
