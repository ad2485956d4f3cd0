import { describe, expect, it } from 'vitest';
import { linePath, niceAxis, niceStep, scale, timeTicks, valueAxis } from '../../../renderer/src/lib/chart-scale.js';

describe('axis ticks', () => {
  it('picks round steps', () => {
    expect(niceStep(100, 4)).toBe(25);
    expect(niceStep(11, 4)).toBe(5);
    expect(niceStep(250, 4)).toBe(100);
    expect(niceStep(0.9, 4)).toBe(0.25);
    expect(niceStep(0, 4)).toBe(1);
  });

  it('widens bounds to round numbers', () => {
    expect(niceAxis(3, 97)).toEqual({ min: 0, max: 100, ticks: [0, 25, 50, 75, 100] });
    expect(niceAxis(41.2, 44.9).ticks.every((t) => Number.isFinite(t))).toBe(true);
  });

  it('gives a flat line room instead of dividing by zero', () => {
    const flat = niceAxis(42, 42);
    expect(flat.min).toBeLessThan(42);
    expect(flat.max).toBeGreaterThan(42);
    expect(niceAxis(0, 0)).toMatchObject({ min: 0, max: 1 });
  });

  it('survives nonsense', () => {
    expect(niceAxis(Number.NaN, 5)).toEqual({ min: 0, max: 1, ticks: [0, 1] });
    expect(niceAxis(10, 0)).toMatchObject({ min: 0, max: 10 });
  });
});

describe('valueAxis', () => {
  const pts = (...vs: Array<number | null>) => vs.map((v, i) => ({ t: i * 1000, v }));

  it('keeps a metric’s own range exactly (0–100 %, 0–11 GiB)', () => {
    expect(valueAxis(pts(3, 40), { min: 0, max: 100 })).toEqual({ min: 0, max: 100, ticks: [0, 25, 50, 75, 100] });
    expect(valueAxis(pts(1.2), { min: 0, max: 11 })).toEqual({ min: 0, max: 11, ticks: [0, 5, 10] });
  });

  it('stretches the range when a reading exceeds it', () => {
    expect(valueAxis(pts(290), { min: 0, max: 250 }).max).toBeGreaterThanOrEqual(290);
  });

  it('starts at zero without a fixed range, and ignores gaps', () => {
    const axis = valueAxis(pts(null, 120, 180, null));
    expect(axis.min).toBe(0);
    expect(axis.max).toBeGreaterThanOrEqual(180);
  });

  it('has a range with no data at all', () => {
    expect(valueAxis([], {})).toMatchObject({ min: 0, max: 1 });
  });
});

describe('scale', () => {
  it('maps onto the pixel range, inverted for SVG y, and clamps', () => {
    expect(scale(50, { min: 0, max: 100 }, 200)).toBe(100);
    expect(scale(100, { min: 0, max: 100 }, 200, true)).toBe(0);
    expect(scale(0, { min: 0, max: 100 }, 200, true)).toBe(200);
    expect(scale(150, { min: 0, max: 100 }, 200)).toBe(200);
    expect(scale(5, { min: 5, max: 5 }, 200)).toBe(100);
  });
});

describe('linePath', () => {
  const y = { min: 0, max: 100 };

  it('places the newest point at the right edge and older ones to its left', () => {
    const d = linePath([{ t: 9000, v: 0 }, { t: 10_000, v: 100 }], 10_000, 10_000, y, 100, 50);
    expect(d).toBe('M90.0,50.0 L100.0,0.0');
  });

  it('breaks the line at a missing reading and at a long silence', () => {
    const gap = linePath([{ t: 1000, v: 10 }, { t: 2000, v: null }, { t: 3000, v: 30 }], 3000, 3000, y, 30, 10);
    expect(gap.match(/M/g)).toHaveLength(2);
    const silence = linePath([{ t: 1000, v: 10 }, { t: 20_000, v: 30 }], 20_000, 20_000, y, 100, 10, 5000);
    expect(silence.match(/M/g)).toHaveLength(2);
  });

  it('leaves out points outside the window and is empty without data', () => {
    expect(linePath([{ t: 0, v: 10 }], 100_000, 10_000, y, 100, 10)).toBe('');
    expect(linePath([], 0, 10_000, y, 100, 10)).toBe('');
  });

  it('changes when a new sample moves the window (what the live chart relies on)', () => {
    const a = linePath([{ t: 1000, v: 40 }, { t: 2000, v: 40 }], 2000, 60_000, y, 300, 100);
    const b = linePath([{ t: 1000, v: 40 }, { t: 2000, v: 40 }, { t: 3000, v: 40 }], 3000, 60_000, y, 300, 100);
    expect(a).not.toBe(b);
  });
});

describe('timeTicks', () => {
  it('labels a window from its start to now at round steps', () => {
    expect(timeTicks(5 * 60_000).map((t) => t.label)).toEqual(['−4 min', '−2 min', 'now']);
    expect(timeTicks(5 * 60_000, 5).map((t) => t.label)).toEqual(['−5 min', '−4 min', '−3 min', '−2 min', '−1 min', 'now']);
    expect(timeTicks(60_000).map((t) => t.label)).toEqual(['−1 min', '−45 s', '−30 s', '−15 s', 'now']);
    expect(timeTicks(0)).toEqual([{ offsetMs: 0, label: 'now' }]);
  });
});
