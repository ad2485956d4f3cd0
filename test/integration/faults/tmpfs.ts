/**
 * A small tmpfs for the disk-full fault tests (mounting needs root: `tmpfsSkipReason` says so
 * otherwise), and filling it to ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../../helpers/temp-home.js';

export const tmpfsSkipReason = process.getuid?.() !== 0 ? 'mounting a small tmpfs needs root' : null;

/** A fresh folder with a tmpfs of `sizeMiB` mounted on it; `unmount` also removes nested mounts. */
export function mountTmpfs(prefix: string, sizeMiB: number): { dir: string; unmount: () => void } {
  const dir = makeTempDir(prefix);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      // Nested mounts first (a job's /output tmpfs left behind would hold the folder).
      const nested = fs
        .readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir + '/'))
        .sort((a, b) => b.length - a.length);
      for (const m of [...nested, dir]) {
        try {
          execFileSync('umount', [m]);
        } catch {
          execFileSync('umount', ['-l', m]);
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Mount points under `dir` (a job's /output tmpfs). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir + '/'));
}

/** Fills the disk under `dir` until ENOSPC; returns the filler file (remove it to give the space back). */
export function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}
