/**
 * The throttling rule: a card that slows down while it works. Pure.
 *
 * Over the timed runs of the most demanding figure (back to back), the card is throttled when
 * the mean of the last third of the runs is more than DROP_THRESHOLD below the first run, or
 * when its SM clock in the last third of the telemetry falls more than CLOCK_DROP_THRESHOLD
 * below the highest clock seen during the run. The reason names heat (at or above
 * HOT_C) or power (at or above POWER_LIMIT_SHARE of the limit) when telemetry shows it.
 */
import type { Throttle } from './schema.js';

export const DROP_THRESHOLD = 0.05;
export const CLOCK_DROP_THRESHOLD = 0.1;
export const HOT_C = 83;
export const POWER_LIMIT_SHARE = 0.95;

export interface ThrottleSample {
  t: number;
  smClockMHz: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const lastThird = <T>(xs: T[]) => xs.slice(xs.length - Math.max(1, Math.ceil(xs.length / 3)));

export function detectThrottle(runs: readonly (number | null)[], samples: readonly ThrottleSample[] = [], powerLimitW: number | null = null): Throttle {
  const values = runs.filter((r): r is number => r !== null && Number.isFinite(r) && r > 0);
  let dropRatio: number | null = null;
  if (values.length >= 3) dropRatio = Math.max(0, 1 - mean(lastThird(values)) / values[0]!);

  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const clocks = sorted.map((s) => s.smClockMHz).filter((c): c is number => c !== null && c > 0);
  let clockNote: string | null = null;
  let clockThrottled = false;
  if (clocks.length >= 3) {
    const peak = Math.max(...clocks);
    const late = mean(lastThird(clocks));
    if (1 - late / peak > CLOCK_DROP_THRESHOLD) {
      clockThrottled = true;
      clockNote = `the SM clock fell from ${Math.round(peak)} to ${Math.round(late)} MHz`;
    }
  }
  const throttled = (dropRatio !== null && dropRatio > DROP_THRESHOLD) || clockThrottled;
  if (!throttled) return { throttled: false, dropRatio, reason: null };

  const late = lastThird(sorted);
  const temps = late.map((s) => s.temperatureC).filter((c): c is number => c !== null);
  const powers = late.map((s) => s.powerDrawW).filter((c): c is number => c !== null);
  const hottest = temps.length ? Math.max(...temps) : null;
  const power = powers.length ? Math.max(...powers) : null;
  const parts: string[] = [];
  if (dropRatio !== null && dropRatio > DROP_THRESHOLD) parts.push(`the last runs were ${Math.round(dropRatio * 100)}% slower than the first`);
  if (clockNote) parts.push(clockNote);
  let cause: string;
  if (hottest !== null && hottest >= HOT_C) cause = `thermal throttling: the GPU reached ${Math.round(hottest)} °C; improve its cooling (clean the fans, more airflow)`;
  else if (power !== null && powerLimitW !== null && power >= POWER_LIMIT_SHARE * powerLimitW)
    cause = `power throttling: the GPU drew ${Math.round(power)} W against its ${Math.round(powerLimitW)} W limit; a higher power limit (nvidia-smi -pl) or a stronger supply would keep it at speed`;
  else cause = 'throttling (telemetry did not show heat or the power limit as the cause; check `nvidia-smi -q -d PERFORMANCE` for the throttle reason)';
  return { throttled: true, dropRatio, reason: `${cause}: ${parts.join(', and ')}.` };
}
