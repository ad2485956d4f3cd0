import { describe, expect, it } from 'vitest';
import { resultFromProgram } from '../../../runtime/bench/results.js';
import { driverItem, hostRamItem, passthroughItem, pcieItem, runSelfTest, specItem, vramItem } from '../../../runtime/bench/self-test.js';
import type { DockerProbe } from '../../../runtime/engine/index.js';
import { benchFixture, ctx, RTX3090 } from './helpers.js';

const GiB = 1024 ** 3;
const run = (fixture: string, over = {}) => resultFromProgram(benchFixture(fixture).gpus[0]!, ctx(over));

describe('self-test items', () => {
  it('driver: too old for CUDA 12 fails, pre-580 warns (benchmark needs CUDA 13), 580+ passes', () => {
    expect(driverItem([{ ...RTX3090, driverVersion: '470.74' }]).status).toBe('fail');
    expect(driverItem([RTX3090])).toMatchObject({ status: 'warn', message: expect.stringMatching(/CUDA benchmark needs 580/) });
    expect(driverItem([{ ...RTX3090, driverVersion: '595.58.03' }]).status).toBe('pass');
    expect(driverItem([]).status).toBe('fail');
  });

  it('VRAM: 24 GiB passes, 6 GiB warns, 2 GiB fails', () => {
    expect(vramItem([RTX3090]).status).toBe('pass');
    expect(vramItem([{ ...RTX3090, memoryTotalMiB: 6144 }]).status).toBe('warn');
    expect(vramItem([{ ...RTX3090, memoryTotalMiB: 2048 }]).status).toBe('fail');
  });

  it('VRAM: no GPU at all says so, not that a size is unknown', () => {
    expect(vramItem([]).message).toBe('No NVIDIA or AMD GPU was found, so there is no GPU memory to check yet.');
    expect(vramItem([{ ...RTX3090, memoryTotalMiB: null }]).message).toMatch(/size is unknown/);
  });

  it('host RAM must be at least the total VRAM', () => {
    expect(hostRamItem([RTX3090, { ...RTX3090, index: 1 }], 32 * GiB)).toMatchObject({ status: 'fail', message: expect.stringMatching(/32\.0 GiB of memory for 48\.0 GiB of GPU memory/) });
    expect(hostRamItem([RTX3090], 64 * GiB).status).toBe('pass');
  });

  it('PCIe: not measured warns, an x4 slot fails with what to do, a full link passes', () => {
    expect(pcieItem([[]]).status).toBe('warn');
    expect(pcieItem([[run('rtx3090-pcie-x4.synthetic.json')]])).toMatchObject({ status: 'fail', message: expect.stringMatching(/3\.1 GB\/s: below the 6 GB\/s floor.*x16/) });
    expect(pcieItem([[run('rtx3090-full.synthetic.json')]]).status).toBe('pass');
  });

  it('benchmark vs spec: a healthy card passes, a slow one fails with its likely reason', () => {
    expect(specItem([[run('rtx3090-full.synthetic.json')]]).status).toBe('pass');
    const doc = benchFixture('rtx3090-throttled.synthetic.json');
    doc.gpus[0]!.figures.fp32!.median = 20;
    doc.gpus[0]!.figures.memoryBandwidth!.median = 500;
    const slow = resultFromProgram(doc.gpus[0]!, ctx());
    expect(specItem([[slow]])).toMatchObject({ status: 'fail', message: expect.stringMatching(/at 5\d% of its specification.*throttling/) });
  });

  it('GPU passthrough: unproven warns; host and container within 10% passes; a failed container run fails', () => {
    const host = run('rtx3090-full.synthetic.json', { measuredAt: 1000 });
    const inside = { ...run('rtx3090-full.synthetic.json', { measuredAt: 2000, inContainer: true }) };
    expect(passthroughItem([[host]]).status).toBe('warn');
    expect(passthroughItem([[inside, host]]).status).toBe('pass');
    expect(passthroughItem([[{ ...inside, error: 'could not select device driver "nvidia"' }, host]])).toMatchObject({ status: 'fail', message: expect.stringMatching(/could not select device driver/) });
  });

  it('runSelfTest gathers every item and is ready only when nothing fails', async () => {
    const probe: DockerProbe = { reachable: false, endpoint: 'unix:///var/run/docker.sock', error: 'The Docker engine is not reachable.', version: null, apiVersion: null, operatingSystem: null, runtimes: [], defaultRuntime: null, cdiSpecDirs: [], elapsedMs: 1 };
    const t = await runSelfTest({ env: {}, home: '/tmp', gpus: [{ ...RTX3090, driverVersion: '595.58.03' }], latest: () => [run('rtx3090-full.synthetic.json')], probe, totalMemBytes: 64 * GiB, freeDiskBytes: 100 * GiB });
    expect(t.items.map((i) => i.id)).toEqual(['driver-version', 'vram', 'host-ram', 'disk', 'pcie', 'docker', 'container-gpu', 'gpu-passthrough', 'bench-spec']);
    expect(t.items.find((i) => i.id === 'docker')?.status).toBe('fail');
    expect(t.ready).toBe(false);
  });
});
