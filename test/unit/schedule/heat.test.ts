/** Heat protection fails safe: a temperature that is not fresh is not a temperature. */
import { describe, expect, it } from 'vitest';
import { decideEffective } from '../../../runtime/schedule/decide.js';
import { defaultScheduleSettings } from '../../../runtime/schedule/schema.js';
import { emptySignals } from '../../../runtime/schedule/signals.js';
import { PolledGpuSignalSource } from '../../../runtime/schedule/sources/gpu.js';

const always = { ...defaultScheduleSettings, mode: 'always' as const };

describe('GPU temperatures expire', () => {
  it('a reading older than 20 s is dropped; a GPU that reported one and went quiet is reported unknown', () => {
    let now = 1_000_000;
    const source = new PolledGpuSignalSource({ list: async () => [] }, () => false, 60_000, 256, 1000, 20_000, () => now);
    expect(source.temperatureC()).toBeNull();
    expect(source.temperatureUnknown()).toBeNull(); // nothing ever reported: no GPU temperatures to miss
    source.onSamples([{ gpuIndex: 0, temperatureC: 70 }, { gpuIndex: 1, temperatureC: 60 }]);
    expect(source.temperatureC()).toBe(70);
    now += 15_000;
    source.onSamples([{ gpuIndex: 1, temperatureC: 61 }]); // GPU 1 still reports, GPU 0 has gone quiet
    now += 6_000;
    // GPU 0's 70 °C is 21 s old: it no longer counts as the hottest, and its silence is reported.
    expect(source.temperatureC()).toBe(61);
    expect(source.temperatureUnknown()).toMatch(/no temperature from GPU 0 for 21 s/);
    source.onSamples([{ gpuIndex: 0, temperatureC: 72 }]);
    expect(source.temperatureUnknown()).toBeNull();
    expect(source.temperatureC()).toBe(72);
  });
});

describe('the thermal rule fails safe', () => {
  it('a frozen last reading below the limit does not keep work running: unknown pauses, fresh resumes', () => {
    const cool = { ...emptySignals, gpuTemperatureC: 50 };
    expect(decideEffective(new Date(), cool, always).run).toBe(true);
    const unknown = { ...emptySignals, gpuTemperatureC: null, gpuTemperatureUnknown: 'no temperature from GPU 0 for 30 s (the telemetry reader is stopped or stuck)' };
    const d = decideEffective(new Date(), unknown, always);
    expect(d).toMatchObject({ run: false, reason: 'too-hot' });
    expect(d.detail).toMatch(/temperature is unknown \(no temperature from GPU 0 for 30 s.*\); work resumes once it is read again/);
    expect(decideEffective(new Date(), { ...unknown, gpuTemperatureUnknown: null, gpuTemperatureC: 50 }, always).run).toBe(true);
    // A machine whose GPUs never report a temperature is not held back by this rule.
    expect(decideEffective(new Date(), { ...emptySignals }, always).run).toBe(true);
  });
});
