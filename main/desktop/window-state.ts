/**
 * The window's size and position, restored at the next start. Pure: which bounds to use given
 * what was saved and the displays there are now (a window saved on a monitor that is gone comes
 * back centred on the primary display, never off-screen). window-state.json in the data folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const windowStateSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(200).max(20_000),
  height: z.number().int().min(200).max(20_000),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof windowStateSchema>;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_SIZE = { width: 1200, height: 800 };
export const MIN_SIZE = { width: 800, height: 560 };

/** How much of the window must be on a display (title bar reachable) to restore it there. */
const MIN_VISIBLE = 80;

function overlap(a: Rect, b: Rect): { w: number; h: number } {
  return { w: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x), h: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) };
}

export function restoreBounds(saved: WindowState | null, workAreas: readonly Rect[]): { bounds: Partial<Rect> & { width: number; height: number }; maximized: boolean } {
  const primary = workAreas[0];
  const fit = (w: number, h: number) => ({
    width: Math.max(MIN_SIZE.width, primary ? Math.min(w, primary.width) : w),
    height: Math.max(MIN_SIZE.height, primary ? Math.min(h, primary.height) : h),
  });
  if (!saved) return { bounds: fit(DEFAULT_SIZE.width, DEFAULT_SIZE.height), maximized: false };
  const visible = workAreas.some((area) => {
    const o = overlap(saved, area);
    return o.w >= MIN_VISIBLE && o.h >= 40 && saved.y >= area.y - 10;
  });
  if (visible) return { bounds: { x: saved.x, y: saved.y, width: Math.max(MIN_SIZE.width, saved.width), height: Math.max(MIN_SIZE.height, saved.height) }, maximized: saved.maximized };
  // Off every display now: keep the size (fitted), let the OS centre it.
  return { bounds: fit(saved.width, saved.height), maximized: saved.maximized };
}

export function loadWindowState(dir: string): WindowState | null {
  try {
    const parsed = windowStateSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, 'window-state.json'), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveWindowState(dir: string, state: WindowState): void {
  const parsed = windowStateSchema.safeParse({ ...state, x: Math.round(state.x), y: Math.round(state.y), width: Math.round(state.width), height: Math.round(state.height) });
  if (!parsed.success) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'window-state.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(parsed.data) + '\n', { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}
