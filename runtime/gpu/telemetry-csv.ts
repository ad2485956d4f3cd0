/**
 * Pure parser of the telemetry stream: one line per GPU per tick of
 * `nvidia-smi --query-gpu=<TELEMETRY_FIELDS> --format=csv,noheader,nounits -lms N`.
 */
import type { TelemetrySample } from './schema.js';
import { cleanText, intIn, numberIn } from './values.js';

export const TELEMETRY_FIELDS = [
  'index',
  'uuid',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'clocks.sm',
  'fan.speed',
] as const;

export function telemetryArgs(intervalMs: number): string[] {
  return [`--query-gpu=${TELEMETRY_FIELDS.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(Math.max(1, Math.round(intervalMs)))];
}

/** One CSV line → one sample; null for a line that is not a sample (blank, an error message). */
export function parseTelemetryLine(line: string, t: number): TelemetrySample | null {
  const cells = line.split(',').map((c) => c.trim());
  if (cells.length !== TELEMETRY_FIELDS.length) return null;
  const gpuIndex = intIn(cells[0]);
  if (gpuIndex === null || !/^\d+$/.test(cells[0]!)) return null;
  return {
    t,
    gpuIndex,
    uuid: cleanText(cells[1]),
    utilizationPct: numberIn(cells[2]),
    memoryUsedMiB: numberIn(cells[3]),
    memoryTotalMiB: numberIn(cells[4]),
    temperatureC: numberIn(cells[5]),
    powerDrawW: numberIn(cells[6]),
    smClockMHz: numberIn(cells[7]),
    fanPct: numberIn(cells[8]),
  };
}

/** Every sample in a chunk of CSV text; lines that are not samples are left out. */
export function parseTelemetryCsv(text: string, t: number): TelemetrySample[] {
  return text.split(/\r?\n/).flatMap((line) => {
    const sample = parseTelemetryLine(line, t);
    return sample ? [sample] : [];
  });
}
