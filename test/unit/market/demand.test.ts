/** The demand book, pure: distinct buyers per image within the window, the median stated size, bounded. */
import { describe, expect, it } from 'vitest';
import { DEMAND_WINDOW_MS, DemandBook } from '../../../market/demand.js';
import { MAX_DEMAND_IMAGES } from '../../../protocol/index.js';

const digest = (n: number) => n.toString(16).padStart(64, '0');
const image = (n: number) => `registry.example/app@sha256:${digest(n)}`;
const GIB = 1024 ** 3;

describe('demand book', () => {
  it('counts buyers, not jobs: three buyers make 3, one buyer asking 50 times makes 1', () => {
    const book = new DemandBook();
    for (const b of ['a', 'b', 'c']) book.record(b, image(1), GIB, 1000);
    for (let i = 0; i < 50; i++) book.record('spammer', image(2), GIB, 1000 + i);
    expect(book.list(2000)).toEqual([
      { image: image(1), sizeBytes: GIB, requests: 3 },
      { image: image(2), sizeBytes: GIB, requests: 1 },
    ]);
  });

  it('a request counts for the window from its buyer’s latest one, then is forgotten', () => {
    const book = new DemandBook();
    book.record('a', image(1), GIB, 0);
    book.record('b', image(1), GIB, 10 * 60_000);
    book.record('a', image(1), GIB, 30 * 60_000);
    expect(book.list(DEMAND_WINDOW_MS + 1)[0]?.requests).toBe(2);
    expect(book.list(10 * 60_000 + DEMAND_WINDOW_MS + 1)[0]?.requests).toBe(1);
    expect(book.list(30 * 60_000 + DEMAND_WINDOW_MS + 1)).toEqual([]);
    expect(book.size).toBe(0);
  });

  it('the size is the median of those stated, one per buyer; an image nobody sized is counted but not listed', () => {
    const book = new DemandBook();
    book.record('a', image(1), 2 * GIB, 1);
    book.record('b', image(1), 2 * GIB, 2);
    book.record('liar', image(1), 500 * GIB, 3);
    book.record('d', image(1), undefined, 4);
    book.record('a', image(2), undefined, 5);
    book.record('b', image(2), undefined, 6);
    expect(book.list(10)).toEqual([{ image: image(1), sizeBytes: 2 * GIB, requests: 4 }]);
    // The first size stated for image 2 lists it, with both buyers counted.
    book.record('c', image(2), GIB, 7);
    expect(book.list(10)[1]).toEqual({ image: image(2), sizeBytes: GIB, requests: 3 });
  });

  it('only pinned images count: a local id cannot be pulled', () => {
    const book = new DemandBook();
    book.record('a', `sha256:${digest(1)}`, GIB, 1);
    expect(book.list(2)).toEqual([]);
  });

  it(`lists at most ${MAX_DEMAND_IMAGES}, most asked first, then most recent`, () => {
    const book = new DemandBook();
    for (let n = 0; n < 40; n++) for (let b = 0; b <= n % 5; b++) book.record(`b${b}`, image(n), GIB, n);
    const list = book.list(100);
    expect(list).toHaveLength(MAX_DEMAND_IMAGES);
    expect(list[0]).toEqual({ image: image(39), sizeBytes: GIB, requests: 5 });
    expect(list.map((e) => e.requests)).toEqual([...list.map((e) => e.requests)].sort((a, b) => b - a));
  });

  it('is bounded: a flood of new images forgets the least asked, never the popular one; buyers per image saturate', () => {
    const book = new DemandBook(DEMAND_WINDOW_MS, 16, 8);
    for (const b of ['a', 'b', 'c']) book.record(b, image(1), GIB, 1);
    for (let n = 100; n < 10_000; n++) book.record('flood', image(n), GIB, n);
    expect(book.size).toBe(16);
    expect(book.list(20_000)[0]).toEqual({ image: image(1), sizeBytes: GIB, requests: 3 });
    for (let b = 0; b < 100; b++) book.record(`buyer${b}`, image(1), GIB, 20_000 + b);
    expect(book.list(30_000)[0]?.requests).toBe(8);
  });
});
