import { describe, expect, it } from 'vitest';
import type { TelemetrySample } from '../../../runtime/gpu/schema.js';
import { appendSamples, latestSample, mergeByTime, newestTime, trimWindow, type TelemetryHistory } from '../../../renderer/src/store/telemetry-window.js';

function sample(gpuIndex: number, t: number, utilizationPct: number | null = 50): TelemetrySample {
  return { t, gpuIndex, uuid: `GPU-${gpuIndex}`, utilizationPct, memoryUsedMiB: 100, memoryTotalMiB: 11264, temperatureC: 40, powerDrawW: 20, smClockMHz: 1350, fanPct: 30 };
}
const times = (history: TelemetryHistory, gpu: number) => (history[gpu] ?? []).map((s) => s.t);

describe('appendSamples', () => {
  it('keeps each GPU apart, oldest first', () => {
    const h = appendSamples({}, [sample(1, 2000), sample(0, 1000), sample(0, 2000), sample(1, 1000)]);
    expect(times(h, 0)).toEqual([1000, 2000]);
    expect(times(h, 1)).toEqual([1000, 2000]);
  });

  it('drops what falls out of the window, measured from the newest sample of that GPU', () => {
    let h: TelemetryHistory = {};
    for (let t = 0; t <= 10_000; t += 1000) h = appendSamples(h, [sample(0, t)], 5000);
    expect(times(h, 0)).toEqual([5000, 6000, 7000, 8000, 9000, 10_000]);
  });

  it('bounds the number of samples whatever the rate', () => {
    const burst = Array.from({ length: 50 }, (_, i) => sample(0, i));
    expect(appendSamples({}, burst, 60_000, 10)[0]).toHaveLength(10);
  });

  it('ignores duplicates: the initial answer and the first events overlap', () => {
    const first = appendSamples({}, [sample(0, 1000), sample(0, 2000)]);
    const again = appendSamples(first, [sample(0, 2000), sample(0, 3000)]);
    expect(times(again, 0)).toEqual([1000, 2000, 3000]);
  });

  it('merges an older batch that arrives after newer events', () => {
    const events = appendSamples({}, [sample(0, 5000), sample(0, 6000)]);
    const withHistory = appendSamples(events, [sample(0, 3000), sample(0, 4000), sample(0, 5000)]);
    expect(times(withHistory, 0)).toEqual([3000, 4000, 5000, 6000]);
  });

  it('returns the same object when nothing changed, and the same array for an untouched GPU', () => {
    const h = appendSamples({}, [sample(0, 1000), sample(1, 1000)]);
    expect(appendSamples(h, [])).toBe(h);
    expect(appendSamples(h, [sample(0, 1000)])).toBe(h);
    const next = appendSamples(h, [sample(0, 2000)]);
    expect(next[1]).toBe(h[1]);
    expect(next[0]).not.toBe(h[0]);
  });

  it('skips samples without a usable time', () => {
    expect(appendSamples({}, [sample(0, Number.NaN)])).toEqual({});
  });
});

describe('history helpers', () => {
  it('finds the latest sample and the newest time', () => {
    const h = appendSamples({}, [sample(0, 1000, 10), sample(0, 3000, 30), sample(1, 2000)]);
    expect(latestSample(h, 0)?.utilizationPct).toBe(30);
    expect(latestSample(h, 7)).toBeNull();
    expect(newestTime(h)).toBe(3000);
    expect(newestTime({})).toBeNull();
  });

  it('trimWindow keeps samples from a time on, at most n', () => {
    const list = [sample(0, 1), sample(0, 2), sample(0, 3), sample(0, 4)];
    expect(trimWindow(list, 2, 10).map((s) => s.t)).toEqual([2, 3, 4]);
    expect(trimWindow(list, 0, 2).map((s) => s.t)).toEqual([3, 4]);
  });

  it('mergeByTime keeps one sample per timestamp', () => {
    const merged = mergeByTime([sample(0, 1)], [sample(0, 2), sample(0, 2), sample(0, 1)]);
    expect(merged.map((s) => s.t)).toEqual([1, 2]);
  });
});
