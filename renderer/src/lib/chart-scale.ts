/**
 * The arithmetic of the dashboard's line charts: nice axis ticks, domains and the SVG path.
 * Pure: the LineChart component only draws what these return.
 */

export interface Point {
  /** Unix milliseconds. */
  t: number;
  /** The value, or null where the tool reported nothing (a gap in the line). */
  v: number | null;
}

export interface Domain {
  min: number;
  max: number;
}

export interface Axis extends Domain {
  ticks: number[];
}

/** A "nice" step (1, 2, 2.5 or 5 × 10^n) near `span / count`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10;
  return nice * magnitude;
}

/** Widens [min, max] to nice round bounds and lists the ticks between them (about `count` steps). */
export function niceAxis(min: number, max: number, count = 4): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, ticks: [0, 1] };
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    // A flat line: give it room (a flat 0 gets 0…1).
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min = min >= 0 && min - pad < 0 ? 0 : min - pad;
    max = max + pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step * 1e-6; v += step) ticks.push(roundTo(v, step));
  return { min: roundTo(lo, step), max: roundTo(hi, step), ticks };
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(decimals, 10)));
}

/**
 * The value axis of a chart: a fixed range where the metric has one (0–100 %, 0–total memory,
 * 0–power limit), stretched if a value exceeds it; else nice bounds around the data, from 0
 * when `fromZero`.
 */
export function valueAxis(points: readonly Point[], fixed: Partial<Domain> = {}, fromZero = true, count = 4): Axis {
  const values = points.map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  const dataMin = values.length > 0 ? Math.min(...values) : 0;
  const dataMax = values.length > 0 ? Math.max(...values) : 1;
  const min = fixed.min !== undefined ? Math.min(fixed.min, dataMin) : fromZero ? Math.min(0, dataMin) : dataMin;
  const max = fixed.max !== undefined ? Math.max(fixed.max, dataMax) : dataMax;
  if (fixed.min !== undefined && fixed.max !== undefined && min === fixed.min && max === fixed.max && max > min) {
    // The data fits the metric's own range: keep it exactly (0–11 GiB, not 0–12.5 GiB), ticks at nice steps inside.
    const step = niceStep(max - min, count);
    const ticks: number[] = [];
    for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-6; v += step) ticks.push(roundTo(v, step));
    return { min, max, ticks };
  }
  return niceAxis(min, max, count);
}

/** Maps a value from a domain onto [0, size] (SVG y grows downwards: pass `invert`). */
export function scale(value: number, domain: Domain, size: number, invert = false): number {
  const span = domain.max - domain.min;
  const ratio = span === 0 ? 0.5 : (value - domain.min) / span;
  const clamped = Math.min(1, Math.max(0, ratio));
  return invert ? size * (1 - clamped) : size * clamped;
}

/**
 * The SVG path of a series over a time window [end − windowMs, end]. Points outside the window
 * are left out; a null value breaks the line; a gap in time longer than `maxGapMs` breaks it too
 * (the agent was unreachable, not "flat").
 */
export function linePath(points: readonly Point[], end: number, windowMs: number, y: Domain, width: number, height: number, maxGapMs = 5000): string {
  const start = end - windowMs;
  const parts: string[] = [];
  let penDown = false;
  let lastT = -Infinity;
  for (const p of points) {
    if (p.t < start || p.t > end) continue;
    if (p.v === null || !Number.isFinite(p.v)) {
      penDown = false;
      continue;
    }
    if (p.t - lastT > maxGapMs) penDown = false;
    const px = scale(p.t, { min: start, max: end }, width);
    const py = scale(p.v, y, height, true);
    parts.push(`${penDown ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`);
    penDown = true;
    lastT = p.t;
  }
  return parts.join(' ');
}

const TIME_STEPS_MS = [5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

/** Time axis labels at a round step, at most `maxTicks` intervals: 5 min → "−4 min", "−2 min", "now". */
export function timeTicks(windowMs: number, maxTicks = 4): Array<{ offsetMs: number; label: string }> {
  if (!(windowMs > 0)) return [{ offsetMs: 0, label: 'now' }];
  const step = TIME_STEPS_MS.find((s) => windowMs / s <= maxTicks) ?? windowMs / maxTicks;
  const ticks: Array<{ offsetMs: number; label: string }> = [];
  for (let offsetMs = Math.floor(windowMs / step) * step; offsetMs >= 0; offsetMs -= step) {
    ticks.push({ offsetMs, label: offsetMs === 0 ? 'now' : formatAgo(offsetMs) });
  }
  return ticks;
}

function formatAgo(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60 || s % 60 !== 0) return `−${s} s`;
  return `−${s / 60} min`;
}
