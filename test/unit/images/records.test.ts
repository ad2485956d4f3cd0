import { describe, expect, it } from 'vitest';
import { candidatesOf, digestsOf, expansionOf, findImage, reconcile, warmDigests } from '../../../runtime/images/records.js';
import type { ImageRow } from '../../../runtime/images/store.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const row = (c: string, over: Partial<ImageRow> = {}): ImageRow => ({
  ref: `reg.example/app@${d(c)}`,
  digest: d(c),
  repository: 'reg.example/app',
  image_id: `sha256:${c}${'0'.repeat(63)}`,
  size_bytes: 100,
  compressed_bytes: 50,
  pulled_at: 1,
  last_used_at: null,
  jobs_run: 0,
  pinned: 0,
  pre_pulled: 0,
  ...over,
});

describe("the image store's records", () => {
  it('brings the records in line with the engine: gone, tagged by someone (theirs now), resized', () => {
    const rows = [row('a'), row('b'), row('c'), row('e', { image_id: null })];
    const engine = [
      { id: rows[1]!.image_id!, repoDigests: [], repoTags: ['me/mine:1'], sizeBytes: 100 },
      { id: rows[2]!.image_id!, repoDigests: [], repoTags: [], sizeBytes: 150 },
    ];
    expect(reconcile(rows, engine)).toEqual([
      { ref: rows[0]!.ref, action: 'gone' },
      { ref: rows[1]!.ref, action: 'owner-tagged', tags: ['me/mine:1'] },
      { ref: rows[2]!.ref, action: 'resized', imageId: rows[2]!.image_id, sizeBytes: 150, pulledAt: 1 },
    ]);
  });

  it('finds an image by ref, digest or a unique digest prefix, and says when none or several match', () => {
    const rows = [row('a'), row('b', { digest: `sha256:ab${'0'.repeat(62)}`, ref: `x@sha256:ab${'0'.repeat(62)}` })];
    expect(findImage(rows, rows[0]!.ref).ref).toBe(rows[0]!.ref);
    expect(findImage(rows, 'aaaa').ref).toBe(rows[0]!.ref);
    expect(() => findImage(rows, 'a')).toThrow(/matches 2 images/);
    expect(() => findImage(rows, 'ffff')).toThrow(/No image of Offshift's matches "ffff"/);
  });

  it('weighs only images on the engine; in use by a job or a pull; expansion from the measured images', () => {
    const rows = [row('a', { last_used_at: 9 }), row('b', { image_id: null }), row('c', { size_bytes: 300, compressed_bytes: 100, pinned: 1 })];
    expect(candidatesOf(rows, digestsOf([`x@${d('a')}`, 'sha256:' + 'f'.repeat(64)]), new Set([rows[2]!.ref]))).toEqual([
      { ref: rows[0]!.ref, sizeBytes: 100, lastUsedAt: 9, pinned: false, inUse: true },
      { ref: rows[2]!.ref, sizeBytes: 300, lastUsedAt: 1, pinned: true, inUse: true },
    ]);
    expect(expansionOf(rows)).toBe(3);
    expect(expansionOf([row('a', { image_id: null })])).toBe(2.5);
    expect(warmDigests([row('a'), row('a', { ref: 'other@x' }), row('b')], new Set([rows[0]!.image_id!]), 64)).toEqual([d('a')]);
  });
});
