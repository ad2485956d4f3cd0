import { describe, expect, it } from 'vitest';
import { PullProgress } from '../../../runtime/sandbox/pull-progress.js';

// The shape of the engine's pull events (dockerode followProgress), as a real pull of two layers sends them.
const ev = (id: string | undefined, status: string, current: number | null = null, total: number | null = null) => ({ id, status, current, total });

describe('pull progress over layers', () => {
  it('sums downloaded bytes over layers once every size is known, and ends at 100%', () => {
    const p = new PullProgress();
    expect(p.update(ev(undefined, 'Pulling from offshift-test/pull'))).toBeNull();
    p.update(ev('a1b2c3d4e5f6', 'Pulling fs layer'));
    p.update(ev('0f0e0d0c0b0a', 'Pulling fs layer'));
    expect(p.summary()).toMatchObject({ layers: 2, doneLayers: 0, totalBytes: null, fraction: 0 });
    p.update(ev('a1b2c3d4e5f6', 'Downloading', 1_000_000, 4_000_000));
    const mid = p.update(ev('0f0e0d0c0b0a', 'Downloading', 1_000_000, 1_000_000))!;
    expect(mid.totalBytes).toBe(5_000_000);
    expect(mid.fraction).toBeCloseTo(0.4);
    expect(mid.detail).toBe('Pulling the image: 40% (2.0 of 5.0 MB, 0 of 2 layers done)');
    p.update(ev('0f0e0d0c0b0a', 'Download complete'));
    p.update(ev('a1b2c3d4e5f6', 'Downloading', 3_000_000, 4_000_000));
    expect(p.summary().fraction).toBeCloseTo(0.8);
    p.update(ev('a1b2c3d4e5f6', 'Pull complete'));
    p.update(ev('0f0e0d0c0b0a', 'Pull complete'));
    expect(p.summary()).toMatchObject({ doneLayers: 2, fraction: 1, downloadedBytes: 5_000_000 });
  });

  it('counts layers already on this machine as done, and never goes backwards', () => {
    const p = new PullProgress();
    p.update(ev('a1b2c3d4e5f6', 'Already exists'));
    p.update(ev('0f0e0d0c0b0a', 'Downloading', 500, 1000));
    p.update(ev('0f0e0d0c0b0a', 'Downloading', 400, 1000));
    expect(p.summary()).toMatchObject({ layers: 2, doneLayers: 1, downloadedBytes: 500, totalBytes: 1000, fraction: 0.5 });
  });
});
