import { describe, expect, it } from 'vitest';
import { countOn, emptyGrid, gridFromWindows, paintRect, windowsFromGrid } from '../../../renderer/src/lib/schedule-grid.js';
import { inAnyWindow } from '../../../runtime/schedule/windows.js';

describe('schedule grid', () => {
  it('no windows = any time = every cell on, and back', () => {
    expect(countOn(gridFromWindows([]))).toBe(168);
    expect(windowsFromGrid(emptyGrid(true))).toEqual([]);
    expect(windowsFromGrid(emptyGrid(false))).toBeNull();
  });
  it('an overnight window paints the evening of its day and the morning of the next', () => {
    const g = gridFromWindows([{ days: ['fri'], start: '22:00', end: '07:00' }]);
    expect(g[4]!.slice(20)).toEqual([false, false, true, true]);
    expect(g[5]!.slice(0, 8)).toEqual([true, true, true, true, true, true, true, false]);
    expect(countOn(g)).toBe(9);
  });
  it('painted runs become windows grouped by hours, ending at midnight as "00:00"', () => {
    let g = emptyGrid(false);
    g = paintRect(g, { d: 0, h: 22 }, { d: 4, h: 23 }, true); // Mon–Fri 22–24
    g = paintRect(g, { d: 5, h: 0 }, { d: 6, h: 23 }, true); // weekend, whole days
    expect(windowsFromGrid(g)).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '00:00' },
      { days: ['sat', 'sun'], start: '00:00', end: '00:00' },
    ]);
  });
  it('the windows made from a grid mean exactly that grid to the agent', () => {
    let g = emptyGrid(false);
    g = paintRect(g, { d: 1, h: 3 }, { d: 3, h: 9 }, true);
    g = paintRect(g, { d: 2, h: 5 }, { d: 2, h: 6 }, false);
    g = paintRect(g, { d: 6, h: 23 }, { d: 6, h: 23 }, true);
    const windows = windowsFromGrid(g)!;
    for (let d = 0; d < 7; d++) {
      for (let h = 0; h < 24; h++) {
        const at = new Date(Date.UTC(2026, 10, 23 + d, h, 30)); // Mon 23 Nov 2026 + d
        expect(inAnyWindow(at, 'UTC', windows), `day ${d} hour ${h}`).toBe(g[d]![h]);
      }
    }
    expect(gridFromWindows(windows)).toEqual(g);
  });
  it('dragging backwards paints the same rectangle', () => {
    const a = paintRect(emptyGrid(false), { d: 3, h: 10 }, { d: 1, h: 8 }, true);
    const b = paintRect(emptyGrid(false), { d: 1, h: 8 }, { d: 3, h: 10 }, true);
    expect(a).toEqual(b);
    expect(countOn(a)).toBe(9);
  });
});
