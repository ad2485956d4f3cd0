/**
 * A small file's parsed content, kept while the file is unchanged: the market asks for the
 * wallet's address, network and settings at every offer, and reading and parsing those files each
 * time was most of what deciding a burst of offers cost (profiled). "Unchanged" is the file's
 * inode, size and modification and change times to the nanosecond: Offshift writes these files
 * by renaming a new one into place, and an editor that rewrites one in place changes its times.
 * No file is a state too (a reader's defaults), kept until one appears. A failed read is never
 * kept: the reader's own error is thrown again at the next call.
 */
import fs from 'node:fs';

export function statCached<A extends unknown[], T>(file: (...args: A) => string, read: (...args: A) => T, copy: (value: T) => T = (v) => v): (...args: A) => T {
  const kept = new Map<string, { stamp: string; value: T }>();
  return (...args: A) => {
    const path = file(...args);
    let stamp: string | null = null;
    try {
      // No file is a state too (the reader's defaults): kept until one appears.
      const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
      if (!st) stamp = 'absent';
      else if (st.isFile()) stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      // unreadable: the reader says what that means
    }
    const hit = stamp === null ? undefined : kept.get(path);
    if (hit && hit.stamp === stamp) return copy(hit.value);
    const value = read(...args);
    if (stamp === null) kept.delete(path);
    else kept.set(path, { stamp, value });
    return copy(value);
  };
}
