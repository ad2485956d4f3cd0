/**
 * The DCGM exporter's four best-known GPU series, under its names and labels (gpu, UUID,
 * device, modelName, Hostname), so that Grafana's NVIDIA DCGM Exporter dashboard works unchanged.
 * Its units: percent, °C, watts, MiB. Pure.
 */
import type { Family } from './exposition.js';
import type { GpuReading, MetricsSnapshot } from './snapshot.js';

export function dcgmFamilies(s: MetricsSnapshot): Family[] {
  const labels = (g: GpuReading) => ({ gpu: String(g.index), UUID: g.uuid, device: `nvidia${g.index}`, modelName: g.model, Hostname: s.hostname });
  const family = (name: string, help: string, pick: (g: GpuReading) => number | null): Family => ({
    name,
    help,
    type: 'gauge',
    samples: s.gpus.flatMap((g) => {
      const v = pick(g);
      return v === null ? [] : [{ labels: labels(g), value: v }];
    }),
  });
  return [
    family('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).', (g) => g.utilizationPct),
    family('DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).', (g) => g.temperatureC),
    family('DCGM_FI_DEV_POWER_USAGE', 'Power draw (in W).', (g) => g.powerW),
    family('DCGM_FI_DEV_FB_USED', 'Framebuffer memory used (in MiB).', (g) => (g.memoryUsedBytes === null ? null : Math.round(g.memoryUsedBytes / 1048576))),
  ];
}
