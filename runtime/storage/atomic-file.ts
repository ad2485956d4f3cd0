import fs from 'node:fs';
import path from 'node:path';
import { diskFullError, isDiskFull } from './disk-full.js';

/**
 * Writes a file atomically: temp file, fsync, rename; a crash leaves the old file or the new one.
 * A full disk leaves the old file and no temp file, and throws `disk-full` (what to do).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = fs.openSync(temp, 'w', mode);
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    // The old file is untouched; a half-written temp file is not left to fill the disk further.
    fs.rmSync(temp, { force: true });
    throw isDiskFull(error) ? diskFullError() : error;
  }
  fs.chmodSync(file, mode);
}
