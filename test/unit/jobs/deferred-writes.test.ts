import { describe, expect, it } from 'vitest';
import { DeferredWrites } from '../../../runtime/jobs/deferred-writes.js';
import { silentLogger } from '../../../runtime/log.js';

/** A "disk" that refuses writes while full, as SQLite does (SQLITE_FULL). */
function disk() {
  const written: string[] = [];
  const d = {
    full: false,
    written,
    write: (what: string) => () => {
      if (d.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      written.push(what);
    },
  };
  return d;
}

describe('records a full disk refused', () => {
  it('are kept in order, later ones queue behind them, and all are written once space returns', async () => {
    const d = disk();
    const w = new DeferredWrites(silentLogger, 10);
    w.write({ jobId: 'a', what: 'running', run: d.write('a:running') });
    d.full = true;
    w.write({ jobId: 'a', what: 'succeeded', run: d.write('a:succeeded') });
    w.write({ jobId: 'b', what: 'queued', run: d.write('b:queued') });
    expect(w.pending('a')).toBe(true);
    let settled = false;
    void w.settled('a').then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    d.full = false;
    // Space is back: even a write that would pass now waits for the older ones (order is kept).
    w.write({ jobId: 'a', what: 'collected', run: d.write('a:collected') });
    await w.settled('a');
    await w.settled('b');
    expect(d.written).toEqual(['a:running', 'a:succeeded', 'b:queued', 'a:collected']);
    expect(settled).toBe(true);
    expect(w.pending('a') || w.pending('b')).toBe(false);
  });

  it('throws other errors at once; close lets waiters go and drops what the disk never took', async () => {
    const d = disk();
    const w = new DeferredWrites(silentLogger, 10_000);
    expect(() => w.write({ jobId: 'a', what: 'x', run: () => { throw new Error('no such table'); } })).toThrow('no such table');
    d.full = true;
    w.write({ jobId: 'a', what: 'succeeded', run: d.write('a:succeeded') });
    const waiting = w.settled('a');
    await w.close();
    await waiting;
    expect(d.written).toEqual([]);
    expect(w.pending('a')).toBe(false);
  });
});
