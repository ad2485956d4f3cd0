import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../runtime/gpu/backoff.js';
import { gpusFromControllers, isSameDevice, normalizePciBusId, vendorOf } from '../../../runtime/gpu/generic.js';
import { TelemetryRing } from '../../../runtime/gpu/ring-buffer.js';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { parseTelemetryCsv, parseTelemetryLine, telemetryArgs } from '../../../runtime/gpu/telemetry-csv.js';
import { cleanText, numberIn } from '../../../runtime/gpu/values.js';
import { parseNvidiaSmiReport } from '../../../runtime/gpu/nvidia-xml.js';
import { parseXml } from '../../../runtime/gpu/xml.js';
import { parseRocmSmiText } from '../../../runtime/gpu/rocm-json.js';

describe('tool values', () => {
  it('turns every "missing" spelling into null', () => {
    for (const v of ['N/A', '[N/A]', '[Not Supported]', 'Not Supported', 'Requested functionality has been deprecated', '[Requested functionality has been deprecated]', 'N/A (Secondary die)', '', '  ', '[Unknown Error]', 'Insufficient Permissions']) {
      expect(cleanText(v), v).toBeNull();
      expect(numberIn(v), v).toBeNull();
    }
  });
  it('reads numbers with units', () => {
    expect(numberIn('19.11 W')).toBe(19.11);
    expect(numberIn('24576 MiB')).toBe(24576);
    expect(numberIn('(300Mhz)')).toBe(300);
    expect(numberIn('53.0')).toBe(53);
    expect(numberIn('abc')).toBeNull();
    expect(numberIn(undefined)).toBeNull();
    expect(numberIn({})).toBeNull();
  });
});

describe('telemetry CSV', () => {
  const t = 1_700_000_000_000;
  it('asks nvidia-smi for one long-running CSV stream', () => {
    expect(telemetryArgs(1000)).toEqual([
      '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,clocks.sm,fan.speed',
      '--format=csv,noheader,nounits',
      '-lms',
      '1000',
    ]);
  });
  it('parses a full line', () => {
    expect(parseTelemetryLine('0, GPU-57567e11-0be2-381b-5132-2ad95c262e58, 37, 1024, 10989, 61, 215.34, 1905, 45', t)).toEqual({
      t,
      gpuIndex: 0,
      uuid: 'GPU-57567e11-0be2-381b-5132-2ad95c262e58',
      utilizationPct: 37,
      memoryUsedMiB: 1024,
      memoryTotalMiB: 10989,
      temperatureC: 61,
      powerDrawW: 215.34,
      smClockMHz: 1905,
      fanPct: 45,
    });
  });
  it('turns [N/A] and [Not Supported] into null (MIG, passively cooled cards)', () => {
    const s = parseTelemetryLine('3, GPU-513536b6, [N/A], 50, 81920, 27, [Not Supported], 1275, [N/A]', t)!;
    expect(s.gpuIndex).toBe(3);
    expect(s.utilizationPct).toBeNull();
    expect(s.powerDrawW).toBeNull();
    expect(s.fanPct).toBeNull();
    expect(s.temperatureC).toBe(27);
  });
  it('skips lines that are not samples: headers, errors, blanks, wrong column counts', () => {
    const text = [
      'index, uuid, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W], clocks.sm [MHz], fan.speed [%]',
      '',
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      '0, GPU-a, 1, 2, 3',
      '1, GPU-b, 5, 6, 7, 8, 9.5, 10, 11',
      '\r',
    ].join('\r\n');
    const samples = parseTelemetryCsv(text, t);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.uuid).toBe('GPU-b');
  });
});

describe('ring buffer', () => {
  it('keeps the newest samples of each GPU and filters by time', () => {
    const ring = new TelemetryRing(3);
    const sample = (t: number, gpuIndex: number) => ({ t, gpuIndex, uuid: `GPU-${gpuIndex}`, utilizationPct: t, memoryUsedMiB: null, memoryTotalMiB: null, temperatureC: null, powerDrawW: null, smClockMHz: null, fanPct: null });
    for (let t = 1; t <= 5; t++) ring.push([sample(t, 0), sample(t, 1)]);
    expect(ring.since().map((s) => `${s.gpuIndex}@${s.t}`)).toEqual(['0@3', '1@3', '0@4', '1@4', '0@5', '1@5']);
    expect(ring.since(4).map((s) => s.t)).toEqual([5, 5]);
  });
});

describe('backoff', () => {
  it('doubles up to the cap', () => {
    const o = { initialMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4, 7, 8, 20].map((a) => backoffDelay(a, o))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
  });
});

describe('generic GPUs (systeminformation) and de-duplication', () => {
  const nvidia: Gpu = {
    index: 0, uuid: 'GPU-1', vendor: 'nvidia', name: 'NVIDIA GeForce RTX 3090', memoryTotalMiB: 24576, driverVersion: '525.147.05', cudaVersion: '12.0',
    pciBusId: '00000000:01:00.0', migMode: null, migDevices: [], processes: [], temperatureC: null, utilizationPct: null, memoryUsedMiB: null, powerDrawW: null, powerLimitW: null,
  };
  it('normalizes PCI bus ids of every tool', () => {
    expect(normalizePciBusId('00000000:01:00.0')).toBe('0000:01:00.0');
    expect(normalizePciBusId('0000:1E:00.0')).toBe('0000:1e:00.0');
    expect(normalizePciBusId('01:00.0')).toBe('0000:01:00.0');
    expect(normalizePciBusId('PCI')).toBeNull();
  });
  it('recognises vendors', () => {
    expect(vendorOf('NVIDIA Corporation')).toBe('nvidia');
    expect(vendorOf('Advanced Micro Devices, Inc. [AMD/ATI]')).toBe('amd');
    expect(vendorOf('Intel Corporation')).toBe('intel');
    expect(vendorOf('Apple')).toBe('apple');
    expect(vendorOf('Moore Threads')).toBe('other');
  });
  it('does not list a GPU twice (PCI match without domain, or vendor + name), keeps the others, drops BMC/VM display adapters', () => {
    const controllers = [
      { vendor: 'NVIDIA Corporation', model: 'GA102 [GeForce RTX 3090]', busAddress: '01:00.0', vram: 24576 },
      { vendor: 'Intel Corporation', model: 'UHD Graphics 770', busAddress: '00:02.0', vram: 256, vramDynamic: true, driverVersion: '' },
      { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', busAddress: '03:00.0', vram: 64 },
      { vendor: 'NVIDIA', model: 'GeForce RTX 3090', name: 'NVIDIA GeForce RTX 3090' },
      { vendor: 'Apple', model: 'Apple M2 Pro', bus: 'Built-In', vram: null, vramDynamic: true },
    ];
    expect(isSameDevice(nvidia, controllers[0]!)).toBe(true);
    const found = gpusFromControllers(controllers, [nvidia]);
    expect(found.map((g) => [g.vendor, g.name, g.index])).toEqual([
      ['intel', 'UHD Graphics 770', 1],
      ['apple', 'Apple M2 Pro', 4],
    ]);
    expect(found[0]).toMatchObject({ uuid: null, memoryTotalMiB: 256, driverVersion: null, pciBusId: '00:02.0', migDevices: [], processes: [] });
  });
});

describe('bad input gets a clear error', () => {
  it('rejects XML that is not an nvidia-smi report', async () => {
    expect(() => parseNvidiaSmiReport(undefined)).toThrow(/nvidia_smi_log/);
    expect(() => parseNvidiaSmiReport({ html: {} })).toThrow(/not an nvidia-smi XML report/);
    await expect(parseXml('<nvidia_smi_log><gpu>')).rejects.toThrow();
    expect(parseNvidiaSmiReport(await parseXml('<nvidia_smi_log><driver_version>N/A</driver_version></nvidia_smi_log>'))).toEqual([]);
  });
  it('rejects rocm-smi output without JSON', () => {
    expect(() => parseRocmSmiText('WARNING: No AMD GPUs specified')).toThrow(/no JSON/);
    expect(parseRocmSmiText('\nWARNING: something\n{"card0": {"GPU ID": "0x1"}}\n')).toEqual({ card0: { 'GPU ID': '0x1' } });
  });
});
