/** The availability signals the schedule service listens to, as the options give them or the platform's defaults, and the running processes it lists. */
import { createBatterySource, type BatterySource } from './sources/battery.js';
import { PolledGpuSignalSource, type GpuReadings, type GpuSignalSource } from './sources/gpu.js';
import type { IdleSource } from './sources/idle.js';
import { LogindIdleSource } from './sources/idle-logind.js';
import { createOwnJobMatcher, listManagedContainerIds } from './sources/own-jobs.js';
import { createProcessSource, type ProcessSource } from './sources/processes.js';
import { normalizeProcessName } from './process-match.js';

export interface SignalSourceOptions {
  env: NodeJS.ProcessEnv;
  idle?: IdleSource | null;
  processes?: ProcessSource | null;
  gpu?: GpuSignalSource | GpuReadings | null;
  battery?: BatterySource | null;
}

function isGpuSignalSource(x: GpuSignalSource | GpuReadings): x is GpuSignalSource {
  return typeof (x as GpuSignalSource).temperatureC === 'function';
}

/** Each source as given (null: none), or when left out the platform's own (logind idle on Linux, the process list, the battery). */
export function signalSources(options: SignalSourceOptions) {
  const idle = options.idle !== undefined ? options.idle : process.platform === 'linux' ? new LogindIdleSource() : null;
  const processes = options.processes !== undefined ? options.processes : createProcessSource();
  const gpu =
    options.gpu === undefined || options.gpu === null
      ? null
      : isGpuSignalSource(options.gpu)
        ? options.gpu
        : new PolledGpuSignalSource(options.gpu, process.platform === 'linux' ? createOwnJobMatcher(() => listManagedContainerIds(options.env)) : () => false);
  const battery = options.battery !== undefined ? options.battery : createBatterySource();
  return { idle, processes, gpu, battery };
}

/** The running processes by name, counted, sorted by name (none without a process source). */
export function runningProcesses(source: ProcessSource | null): Array<{ name: string; count: number }> {
  if (!source) return [];
  const counts = new Map<string, { name: string; count: number }>();
  // A Windows executable name (Wine/Proton) when there is one, else the process name.
  const entries = source.list ? source.list().map((p) => p.names.find((n) => /\.exe$/i.test(n)) ?? p.names[0] ?? '') : source.names();
  for (const name of entries) {
    const key = normalizeProcessName(name);
    if (!key) continue;
    const c = counts.get(key) ?? { name, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => a.name.localeCompare(b.name));
}
