import { createGpuService } from '../../gpu/service.js';
import type { Gpu } from '../../gpu/schema.js';
import { debugLogger } from '../logger.js';
import type { CliCommand } from '../command.js';
import { formatTable } from '../table.js';

const dash = '-';
const fmt = (value: number | null, unit: string, digits = 0) => (value === null ? dash : `${value.toFixed(digits)} ${unit}`);

export function formatGpuTable(gpus: Gpu[]): string {
  if (gpus.length === 0) return 'No GPU found. Run `offshift check` to see why.\n';
  const rows = gpus.map((g) => [
    `${g.vendor}:${g.index}`,
    g.name || dash,
    g.memoryTotalMiB === null ? dash : `${Math.round(g.memoryTotalMiB)} MiB`,
    g.driverVersion ?? dash,
    g.cudaVersion ?? dash,
    g.pciBusId ?? dash,
    fmt(g.temperatureC, 'C'),
    fmt(g.utilizationPct, '%'),
    g.powerDrawW === null && g.powerLimitW === null ? dash : `${fmt(g.powerDrawW, 'W', 1)} / ${fmt(g.powerLimitW, 'W')}`,
    g.migMode === 'enabled' ? `on (${g.migDevices.length})` : (g.migMode ?? dash),
    String(g.processes.length),
  ]);
  let out = formatTable(['GPU', 'NAME', 'MEMORY', 'DRIVER', 'CUDA', 'PCI BUS', 'TEMP', 'UTIL', 'POWER / LIMIT', 'MIG', 'PROCS'], rows);
  for (const g of gpus.filter((x) => x.migDevices.length > 0)) {
    out += `\n${g.vendor}:${g.index} MIG instances:\n`;
    out += formatTable(
      ['GI', 'MEMORY', 'SMs'],
      g.migDevices.map((m) => [String(m.gpuInstanceId), m.memoryTotalMiB === null ? dash : `${m.memoryTotalMiB} MiB`, m.multiprocessorCount === null ? dash : String(m.multiprocessorCount)]),
    );
  }
  return out;
}

export const gpusCommand: CliCommand = {
  name: 'gpus',
  summary: 'List the GPUs of this machine (vendor tools first, then anything else).',
  usage: 'gpus [--json]   (--json prints exactly { "gpus": [...] })',
  async run(args, io) {
    const json = args.flags.has('json');
    const log = debugLogger(io);
    const service = createGpuService({ env: io.env, log, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
    const gpus = await service.list();
    if (json) {
      io.stdout(JSON.stringify({ gpus }, null, 2) + '\n');
      return 0;
    }
    io.stdout(formatGpuTable(gpus));
    for (const tool of await service.tools()) {
      if (tool.error) io.stderr(`\nnote: ${tool.error}\n`);
    }
    return 0;
  },
};
