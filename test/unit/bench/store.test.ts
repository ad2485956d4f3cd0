import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { benchPassthroughCheckItem } from '../../../runtime/bench/check-item.js';
import { latestScores } from '../../../runtime/bench/scores.js';
import { benchDatabasePath, openBenchStore } from '../../../runtime/bench/store.js';
import { resultFromProgram } from '../../../runtime/bench/results.js';
import type { Logger } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { benchFixture, ctx } from './helpers.js';

const homes: { cleanup: () => void }[] = [];
const home = () => {
  const h = makeTempHome('offshift-bench-store-');
  homes.push(h);
  return h.home;
};
afterEach(() => homes.splice(0).forEach((h) => h.cleanup()));

function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (msg) => warnings.push(msg), error: (msg) => warnings.push(msg) };
}

const result = (measuredAt: number, over: Partial<ReturnType<typeof resultFromProgram>> = {}) => ({
  ...resultFromProgram(benchFixture('rtx3090-full.synthetic.json').gpus[0]!, ctx({ measuredAt })),
  ...over,
});

describe('benchmark history (real SQLite, bench.db)', () => {
  it('keeps results with machine, driver and time, newest first, per GPU', () => {
    const h = home();
    const store = openBenchStore(h, 'rig-1');
    store.add(result(1000), '525.147.05');
    store.add(result(3000), '525.147.05');
    store.add(result(2000, { gpuKey: 'GPU-other', score: 12 }), null);
    const all = store.history();
    expect(all.map((e) => e.result.measuredAt)).toEqual([3000, 2000, 1000]);
    expect(all[0]).toMatchObject({ machine: 'rig-1', driverVersion: '525.147.05' });
    expect(store.history({ gpuKey: 'GPU-other' })).toHaveLength(1);
    expect(store.history({ limit: 1 })).toHaveLength(1);
    expect(store.latestScored(result(0).gpuKey)?.measuredAt).toBe(3000);
    store.close();
  });
});

describe('latestScores (for the marketplace)', () => {
  it('is [] before any benchmark, without creating anything', async () => {
    const h = home();
    expect(await latestScores(h, recordingLog())).toEqual([]);
    expect(fs.existsSync(benchDatabasePath(h))).toBe(false);
  });

  it('gives the newest scored result of each GPU', async () => {
    const h = home();
    const store = openBenchStore(h);
    store.add(result(1000, { score: 50 }), null);
    store.add(result(2000, { score: 55 }), null);
    store.add(result(3000, { score: null, error: 'failed' }), null);
    store.add(result(1500, { gpuKey: 'GPU-b', score: 80 }), null);
    store.close();
    expect(await latestScores(h, recordingLog())).toEqual([
      { gpuKey: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab', score: 55, measuredAt: 2000 },
      { gpuKey: 'GPU-b', score: 80, measuredAt: 1500 },
    ]);
  });

  it('a damaged history file is [] and a warning in the log, never a throw', async () => {
    const h = home();
    fs.writeFileSync(benchDatabasePath(h), 'this is not a database '.repeat(100));
    const log = recordingLog();
    expect(await latestScores(h, log)).toEqual([]);
    expect(log.warnings).toEqual(['benchmark history unreadable; no scores to advertise']);
  });
});

describe('the system check\'s GPU passthrough item', () => {
  it('is absent before any in-container run (and with a damaged history), then shows the comparison', () => {
    const h = home();
    expect(benchPassthroughCheckItem(h)).toBeNull();
    const store = openBenchStore(h);
    store.add(result(1000), null);
    expect(benchPassthroughCheckItem(h)).toBeNull();
    store.add(result(2000, { inContainer: true }), null);
    store.close();
    expect(benchPassthroughCheckItem(h)).toMatchObject({ id: 'gpu-passthrough', status: 'pass', message: expect.stringMatching(/within 10% of the host/) });
    fs.writeFileSync(benchDatabasePath(h), 'garbage'.repeat(200));
    expect(benchPassthroughCheckItem(h)).toBeNull();
  });
});
