import { describe, expect, it } from 'vitest';
import { resultFromProgram } from '../../../runtime/bench/results.js';
import { detectThrottle } from '../../../runtime/bench/throttle.js';
import { benchFixture, ctx } from './helpers.js';

const samples = (clocks: number[], temp: number, power: number) => clocks.map((c, i) => ({ t: 1000 * i, smClockMHz: c, temperatureC: temp, powerDrawW: power }));

describe('the throttling rule', () => {
  it('steady runs are not throttling', () => {
    expect(detectThrottle([68.3, 68.41, 68.35, 68.38, 68.36])).toEqual({ throttled: false, dropRatio: expect.any(Number), reason: null });
  });

  it('last runs 10% below the first are (the H200-at-700-W pattern)', () => {
    const t = detectThrottle([100, 95, 90]);
    expect(t.throttled).toBe(true);
    expect(t.dropRatio).toBeCloseTo(0.1, 5);
    expect(t.reason).toMatch(/10% slower than the first/);
  });

  it('names power when the card sat at its limit', () => {
    const t = detectThrottle([100, 95, 90], samples([1980, 1900, 1800, 1750], 70, 698), 700);
    expect(t.reason).toMatch(/^power throttling: the GPU drew 698 W against its 700 W limit/);
  });

  it('names heat when the card was hot', () => {
    const t = detectThrottle([100, 96, 92], samples([1900, 1900, 1500, 1450], 88, 200), 350);
    expect(t.reason).toMatch(/^thermal throttling: the GPU reached 88 °C/);
    expect(t.reason).toMatch(/SM clock fell from 1900 to 1475 MHz/);
  });

  it('a falling clock alone is throttling even when the runs look steady', () => {
    expect(detectThrottle([100, 100, 100], samples([2000, 2000, 1700, 1600], 60, 100), 350).throttled).toBe(true);
  });

  it('too few runs and no telemetry: no verdict of throttling', () => {
    expect(detectThrottle([100, 50]).throttled).toBe(false);
  });

  it('the throttled fixture is flagged through the result rules', () => {
    const r = resultFromProgram(benchFixture('rtx3090-throttled.synthetic.json').gpus[0]!, ctx());
    expect(r.throttled).toBe(true);
    expect(r.throttle.dropRatio).toBeGreaterThan(0.09);
    expect(r.flags.join(' ')).toMatch(/Likely throttling/);
  });
});
