import { describe, expect, it } from 'vitest';
import { availableBytes, planFit, planWatermarkPrune, type DiskPicture, type EvictionCandidate } from '../../../runtime/images/eviction.js';
import { imageNeed, judgeFit } from '../../../runtime/images/fit.js';
import type { ManifestFacts } from '../../../runtime/images/registry.js';

const GB = 1e9;
const image = (ref: string, sizeGB: number, lastUsedAt: number, over: Partial<EvictionCandidate> = {}): EvictionCandidate => ({ ref, sizeBytes: sizeGB * GB, lastUsedAt, pinned: false, inUse: false, ...over });
const disk = (over: Partial<DiskPicture> = {}): DiskPicture => ({ usedBytes: 0, budgetBytes: 64 * GB, freeDiskBytes: 500 * GB, minFreeBytes: 32 * GB, reservedBytes: 0, ...over });

describe('planning room for a pull', () => {
  it('removes nothing when the pull fits', () => {
    expect(planFit([image('a', 8, 1)], disk({ usedBytes: 8 * GB }), 10 * GB)).toEqual({ fits: true, remove: [], freedBytes: 0 });
  });

  it('removes the least recently used images first, only as many as needed, never pinned or in use', () => {
    const images = [image('newest', 10, 50), image('pinned', 10, 1, { pinned: true }), image('oldest', 10, 2), image('busy', 10, 3, { inUse: true }), image('older', 10, 10)];
    const plan = planFit(images, disk({ usedBytes: 50 * GB }), 30 * GB);
    expect(plan).toEqual({ fits: true, remove: ['oldest', 'older'], freedBytes: 20 * GB });
  });

  it('says by how much the budget and the disk fall short when even removing every unused image is not enough', () => {
    const plan = planFit([image('pinned', 20, 1, { pinned: true }), image('old', 10, 2)], disk({ usedBytes: 30 * GB, freeDiskBytes: 40 * GB }), 50 * GB);
    expect(plan).toMatchObject({ fits: false, remove: ['old'], freedBytes: 10 * GB, budgetShortBytes: 6 * GB, diskShortBytes: 32 * GB });
  });

  it('counts room promised to pulls in progress, and the free-disk floor whatever the budget', () => {
    expect(planFit([], disk({ reservedBytes: 60 * GB }), 5 * GB)).toMatchObject({ fits: false, budgetShortBytes: 1 * GB });
    expect(planFit([], disk({ budgetBytes: 1000 * GB, freeDiskBytes: 40 * GB }), 10 * GB)).toMatchObject({ fits: false, budgetShortBytes: 0, diskShortBytes: 2 * GB });
    expect(availableBytes(disk({ usedBytes: 10 * GB, freeDiskBytes: 50 * GB, reservedBytes: 5 * GB }))).toBe(13 * GB);
    expect(availableBytes(disk({ freeDiskBytes: null }))).toBe(64 * GB);
  });

  it('prunes nothing below the high watermark, and past it down to the low one', () => {
    const images = [image('a', 10, 1), image('b', 10, 2), image('c', 10, 3), image('d', 10, 4), image('e', 14, 5)];
    expect(planWatermarkPrune(images, disk({ usedBytes: 54 * GB }))).toEqual([]);
    // 54.4 GB is past 85% of 64: down to 80% (51.2 GB) takes one image.
    expect(planWatermarkPrune(images, disk({ usedBytes: 54.5 * GB }))).toEqual(['a']);
    // Under the free-disk floor: pruned until above it.
    expect(planWatermarkPrune(images, disk({ usedBytes: 20 * GB, freeDiskBytes: 15 * GB }))).toEqual(['a', 'b']);
  });
});

describe('judging an image before its pull', () => {
  const facts = (sizes: number[]): ManifestFacts => ({
    digest: 'sha256:' + 'a'.repeat(64),
    layers: sizes.map((s, i) => ({ digest: `sha256:${String(i).repeat(64).slice(0, 64)}`, sizeBytes: s, diffId: `diff${i}` })),
    configDigest: 'sha256:' + 'c'.repeat(64),
    compressedBytes: sizes.reduce((a, b) => a + b, 0) + 1000,
    source: 'origin',
    pullRef: 'x',
    mirrorProblem: null,
    documents: new Map(),
    openBlob: async () => ({ status: 200, body: (async function* () {})() }),
  });

  it('counts only the layers the engine lacks, less what the cache holds, and the cache copy on disk', () => {
    const need = imageNeed(facts([1 * GB, 2 * GB, 3 * GB]), new Set(['diff0']), 2, (d) => (d.startsWith('sha256:2') ? 1 * GB : 0));
    expect(need).toEqual({ missingBytes: 4 * GB, diskBytes: 10 * GB + 4 * GB });
  });

  it('declines a size claim the manifest contradicts, a pull slower than allowed, and a pull that cannot fit, each with figures', () => {
    const f = facts([4 * GB]);
    const need = imageNeed(f, new Set(), 1);
    const base = { facts: f, need, rate: 20e6, images: [], disk: disk() };
    expect(judgeFit({ ...base, claims: { imageSizeBytes: f.compressedBytes + 500_000 } }).ok).toBe(true);
    expect(judgeFit({ ...base, claims: { imageSizeBytes: 2 * GB } })).toMatchObject({ ok: false, reason: 'image-size-mismatch' });
    const slow = judgeFit({ ...base, claims: { maxPullSeconds: 60 } });
    expect(slow).toMatchObject({ ok: false, reason: 'pull-too-slow' });
    expect((slow as { detail: string }).detail).toContain('about 200 s');
    expect(judgeFit({ ...base, rate: null, claims: { maxPullSeconds: 60 } }).ok).toBe(true);
    const full = judgeFit({ ...base, claims: {}, disk: disk({ budgetBytes: 5 * GB }) });
    expect(full).toMatchObject({ ok: false, reason: 'not-enough-disk' });
    expect((full as { detail: string }).detail).toMatch(/needs about 8\.00 GB on disk \(4\.00 GB to download\), but the image budget \(5\.00 GB/);
  });
});
