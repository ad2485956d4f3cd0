import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { assignGpus, gpuKey, gpusBackInService, gpusToTakeOutOfService, processBaseline } from '../../../runtime/sandbox/gpu-assign.js';

function gpu(index: number, over: Partial<Gpu> = {}): Gpu {
  return {
    index, uuid: `GPU-0000000${index}-aaaa`, vendor: 'nvidia', name: 'NVIDIA L40S', memoryTotalMiB: 46068, driverVersion: '595.80', cudaVersion: '13.0',
    pciBusId: null, migMode: null, migDevices: [], processes: [], temperatureC: 30, utilizationPct: 0, memoryUsedMiB: 0, powerDrawW: 30, powerLimitW: 350,
    ...over,
  };
}
const two = [gpu(0), gpu(1)];

describe('assignGpus', () => {
  it('gives nothing for 0', () => expect(assignGpus(0, two, new Map())).toEqual([]));
  it('gives the first free GPUs for a count, by UUID', () => {
    expect(assignGpus(1, two, new Map([[gpuKey(two[0]!), 'busy']]))).toEqual([{ vendor: 'nvidia', key: 'GPU-00000001-aaaa', uuid: 'GPU-00000001-aaaa' }]);
  });
  it('refuses more GPUs than exist, naming the field', () => {
    expect(() => assignGpus(3, two, new Map())).toThrow(/gpus: 3 asked, but this machine has 2 GPUs/);
    expect(() => assignGpus(1, [], new Map())).toThrow(/has 0 GPUs/);
    expect(() => assignGpus('all', [], new Map())).toThrow(/no GPU/);
  });
  it('refuses an unknown UUID, and a GPU out of service with its reason', () => {
    expect(() => assignGpus(['GPU-99999999-aaaa'], two, new Map())).toThrow(/there is no GPU GPU-99999999-aaaa/);
    expect(() => assignGpus(['GPU-00000000-aaaa'], two, new Map([['GPU-00000000-aaaa', 'Out of service: leftovers']]))).toThrow(/leftovers/);
  });
  it('all means every GPU, each named', () => {
    expect(assignGpus('all', two, new Map()).map((g) => g.key)).toEqual(['GPU-00000000-aaaa', 'GPU-00000001-aaaa']);
  });
  it('passes AMD GPUs by render node', () => {
    expect(assignGpus(1, [gpu(1, { vendor: 'amd', uuid: null })], new Map())).toEqual([{ vendor: 'amd', key: 'amd:1', renderNode: '/dev/dri/renderD129' }]);
  });
});

describe('after a job: GPU leftovers', () => {
  it('takes out of service a job GPU where a process still holds memory, saying which', () => {
    const gpus = [gpu(0, { processes: [{ pid: 4242, name: 'python3', usedMemoryMiB: 1024 }] }), gpu(1)];
    const out = gpusToTakeOutOfService(['GPU-00000000-aaaa', 'GPU-00000001-aaaa'], gpus);
    expect([...out.keys()]).toEqual(['GPU-00000000-aaaa']);
    expect(out.get('GPU-00000000-aaaa')).toMatch(/python3 \(pid 4242, 1024 MiB\) still holds memory/);
  });
  it('ignores GPUs the job did not use and processes holding no memory', () => {
    const gpus = [gpu(0, { processes: [{ pid: 1, name: 'x', usedMemoryMiB: 0 }] }), gpu(1, { processes: [{ pid: 2, name: 'y', usedMemoryMiB: 10 }] })];
    expect(gpusToTakeOutOfService(['GPU-00000000-aaaa'], gpus).size).toBe(0);
  });
  it('counts a process whose memory is not reported (N/A) as holding', () => {
    expect(gpusToTakeOutOfService(['GPU-00000000-aaaa'], [gpu(0, { processes: [{ pid: 1, name: 'x', usedMemoryMiB: null }] })]).size).toBe(1);
  });
  it('brings a GPU back once clean', () => {
    const out = new Map([['GPU-00000000-aaaa', 'dirty']]);
    expect(gpusBackInService(out, [gpu(0, { processes: [{ pid: 1, name: 'x', usedMemoryMiB: 5 }] })])).toEqual([]);
    expect(gpusBackInService(out, [gpu(0)])).toEqual(['GPU-00000000-aaaa']);
  });
  it('ignores processes that were on the GPU before the job (the desktop), counts new ones', () => {
    const before = [gpu(0, { processes: [{ pid: 1357, name: 'Xorg', usedMemoryMiB: 99 }] })];
    const baseline = processBaseline(['GPU-00000000-aaaa'], before);
    expect(gpusToTakeOutOfService(['GPU-00000000-aaaa'], before, baseline).size).toBe(0);
    const after = [gpu(0, { processes: [{ pid: 1357, name: 'Xorg', usedMemoryMiB: 99 }, { pid: 5000, name: 'python3', usedMemoryMiB: 300 }] })];
    const out = gpusToTakeOutOfService(['GPU-00000000-aaaa'], after, baseline);
    expect(out.get('GPU-00000000-aaaa')).toMatch(/python3 \(pid 5000, 300 MiB\)/);
    expect(out.get('GPU-00000000-aaaa')).not.toMatch(/Xorg/);
    expect(gpusBackInService(out, before, baseline)).toEqual(['GPU-00000000-aaaa']);
  });
});
