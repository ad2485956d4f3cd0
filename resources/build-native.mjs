// What the build scripts of native programs share (resources/bench/build.mjs,
// resources/demo-job/build.mjs): finding a compiler, and skipping a compile that is up to date.
import fs from 'node:fs';
import path from 'node:path';

/** The first of `names` (absolute, or looked up on PATH, then in `extraDirs`) that is executable; null if none. */
export function findExecutable(names, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const name of names.filter(Boolean)) {
    const candidates = path.isAbsolute(name) ? [name] : dirs.map((d) => path.join(d, name));
    for (const candidate of candidates) {
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // next
      }
    }
  }
  return null;
}

/** Whether `output` is newer than every one of `inputs` (a missing file counts as oldest). */
export function isUpToDate(output, inputs) {
  const mtime = (p) => {
    try {
      return fs.statSync(p).mtimeMs;
    } catch {
      return 0;
    }
  };
  return mtime(output) > Math.max(...inputs.map(mtime));
}
