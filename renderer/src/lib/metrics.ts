/** The four live charts of a GPU card: what each plots, in which unit, over which range. Pure. */
import type { Gpu, TelemetrySample } from '../../../runtime/gpu/schema.js';
import type { Domain, Point } from './chart-scale.js';

export type MetricId = 'utilization' | 'temperature' | 'power' | 'memory';

export interface MetricDef {
  id: MetricId;
  title: string;
  unit: string;
  decimals: number;
  /** How the current reading reads (default: the number and the unit). */
  format?(value: number): string;
  /** The reading of one sample in this metric's unit. */
  value(sample: TelemetrySample): number | null;
  /** The metric's natural range for this GPU, where it has one. */
  range(gpu: Gpu, latest: TelemetrySample | null): Partial<Domain>;
}

const MIB_PER_GIB = 1024;

export const METRICS: readonly MetricDef[] = [
  { id: 'utilization', title: 'Utilization', unit: '%', decimals: 0, value: (s) => s.utilizationPct, range: () => ({ min: 0, max: 100 }) },
  { id: 'temperature', title: 'Temperature', unit: '°C', decimals: 0, value: (s) => s.temperatureC, range: () => ({ min: 0, max: 100 }) },
  {
    id: 'power',
    title: 'Power',
    unit: 'W',
    decimals: 1,
    value: (s) => s.powerDrawW,
    range: (gpu) => (gpu.powerLimitW !== null && gpu.powerLimitW > 0 ? { min: 0, max: gpu.powerLimitW } : { min: 0 }),
  },
  {
    id: 'memory',
    title: 'Memory',
    unit: 'GiB',
    decimals: 2,
    value: (s) => (s.memoryUsedMiB === null ? null : s.memoryUsedMiB / MIB_PER_GIB),
    // Under 1 GiB, MiB say more than "0.01 GiB".
    format: (gib) => (gib < 1 ? `${Math.round(gib * MIB_PER_GIB)} MiB` : `${gib.toFixed(2)} GiB`),
    range: (gpu, latest) => {
      const total = latest?.memoryTotalMiB ?? gpu.memoryTotalMiB;
      return total !== null && total > 0 ? { min: 0, max: total / MIB_PER_GIB } : { min: 0 };
    },
  },
];

/** A metric's series from a GPU's samples. */
export function seriesOf(metric: MetricDef, samples: readonly TelemetrySample[]): Point[] {
  return samples.map((s) => ({ t: s.t, v: metric.value(s) }));
}
