/**
 * Pure parser of `rocm-smi … --json`. The keys differ across ROCm versions:
 * - the PCI device id is "GPU ID" up to ROCm 5.x and "Device ID" (+ "Device Rev") from 6.0;
 * - the marketing name is "Card series" from ~5.x, but ROCm 4.3 prints the vendor id "0x1002"
 *   there, and some cards (Vega 10) have no "Card series" at all;
 * - power is "Average Graphics Package Power (W)" (older/consumer) or
 *   "Current Socket Graphics Package Power (W)" (MI300-era ROCm 6), sometimes "N/A (Secondary die)".
 * rocm-smi's `PID…` lines (in "system") say how many GPUs a process uses but not which, so AMD
 * processes are not attributed to a card (docs/gpu.md).
 */
import type { Gpu, TelemetrySample } from './schema.js';
import { cleanText, intIn, numberIn } from './values.js';

type Card = Record<string, unknown>;

const MIB = 1024 * 1024;

function first(card: Card, keys: string[]): unknown {
  for (const key of keys) {
    if (cleanText(card[key]) !== null) return card[key];
  }
  return undefined;
}

function bytesToMiB(value: unknown): number | null {
  const bytes = numberIn(value);
  return bytes === null ? null : Math.round(bytes / MIB);
}

const isHexId = (text: string | null) => text !== null && /^0x[0-9a-f]+$/i.test(text);

function cardName(card: Card): string {
  for (const key of ['Card series', 'Card model', 'Marketing Name', 'Card SKU']) {
    const text = cleanText(card[key]);
    if (text !== null && !isHexId(text) && key !== 'Card SKU') return text;
  }
  const deviceId = cleanText(first(card, ['Device ID', 'GPU ID']));
  return deviceId ? `AMD GPU (device ${deviceId})` : 'AMD GPU';
}

function temperature(card: Card): number | null {
  return numberIn(first(card, ['Temperature (Sensor edge) (C)', 'Temperature (Sensor junction) (C)']));
}

function powerDraw(card: Card): number | null {
  return numberIn(
    first(card, ['Current Socket Graphics Package Power (W)', 'Average Graphics Package Power (W)', 'Average Graphics Package Power']),
  );
}

function memoryUsed(card: Card): number | null {
  return bytesToMiB(card['VRAM Total Used Memory (B)']);
}

export interface RocmCard {
  index: number;
  card: Card;
}

/** The cards of a rocm-smi JSON report ("card0", "card1", …) in index order. */
export function rocmCards(report: unknown): RocmCard[] {
  if (typeof report !== 'object' || report === null || Array.isArray(report)) {
    throw new Error('not a rocm-smi JSON report (expected an object of "cardN" entries)');
  }
  return Object.entries(report as Record<string, unknown>)
    .flatMap(([key, value]) => {
      const match = /^card(\d+)$/.exec(key);
      if (!match || typeof value !== 'object' || value === null) return [];
      return [{ index: Number(match[1]), card: value as Card }];
    })
    .sort((a, b) => a.index - b.index);
}

/** rocm-smi prints a blank line (and sometimes warnings) before the JSON: take the JSON object. */
export function parseRocmSmiText(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end < start) throw new Error('rocm-smi printed no JSON');
  return JSON.parse(text.slice(start, end + 1)) as unknown;
}

export function parseRocmSmiReport(report: unknown): Gpu[] {
  const system = (report as Record<string, unknown>).system;
  const driverVersion = typeof system === 'object' && system !== null ? cleanText((system as Card)['Driver version']) : null;
  return rocmCards(report).map(({ index, card }): Gpu => ({
    index,
    uuid: cleanText(card['Unique ID']),
    vendor: 'amd',
    name: cardName(card),
    memoryTotalMiB: bytesToMiB(card['VRAM Total Memory (B)']),
    driverVersion,
    cudaVersion: null,
    pciBusId: cleanText(card['PCI Bus']),
    migMode: null,
    migDevices: [],
    processes: [],
    temperatureC: temperature(card),
    utilizationPct: numberIn(card['GPU use (%)']),
    memoryUsedMiB: memoryUsed(card),
    powerDrawW: powerDraw(card),
    powerLimitW: numberIn(first(card, ['Max Graphics Package Power (W)', 'Max Graphics Package Power'])),
  }));
}

/** One telemetry sample per card from a rocm-smi JSON report. */
export function rocmSamples(report: unknown, t: number): TelemetrySample[] {
  return rocmCards(report).map(({ index, card }) => ({
    t,
    gpuIndex: index,
    uuid: cleanText(card['Unique ID']),
    utilizationPct: numberIn(card['GPU use (%)']),
    memoryUsedMiB: memoryUsed(card),
    memoryTotalMiB: bytesToMiB(card['VRAM Total Memory (B)']),
    temperatureC: temperature(card),
    powerDrawW: powerDraw(card),
    smClockMHz: intIn(card['sclk clock speed:']),
    fanPct: numberIn(card['Fan speed (%)']),
  }));
}
