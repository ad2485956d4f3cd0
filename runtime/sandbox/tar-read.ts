/**
 * A tar reader for archives written by a stranger (a job's /output, read back through the Docker
 * archive API): it writes regular files and folders under one fresh folder, and nothing else.
 * Links (symbolic and hard), devices and FIFOs are skipped, never created or followed; absolute
 * paths and `..` are refused; the file data written, the bytes read and the number of entries are
 * capped. Each skipped entry is reported with its reason. Files are created with O_EXCL and
 * O_NOFOLLOW (a name seen twice is skipped, never overwritten), 0600, folders 0700.
 *
 * Formats: ustar (with its name prefix), GNU long names ('L'), PAX headers ('x': path, size),
 * which is what Go's archive/tar (the engine's) writes. Headers with a bad checksum, base-256
 * sizes and an archive cut short end the reading with a reason.
 */
import fs from 'node:fs';
import { TarExtraction } from './tar-extraction.js';
import type { TarLimits, TarReadResult } from './tar-format.js';

export type { TarLimits, TarReadResult, TarSkip } from './tar-format.js';
export { parseHeader, parsePax, safeParts } from './tar-format.js';

/**
 * Reads the archive from `source` into `dest`, a folder this call creates (it must not exist).
 * Never throws for what the archive holds (that ends in `stopped`); throws for the host's own
 * errors (dest exists, disk full).
 */
export async function extractTar(source: AsyncIterable<Uint8Array>, dest: string, limits: TarLimits): Promise<TarReadResult> {
  fs.mkdirSync(dest, { mode: 0o700 });
  const maxRead = limits.maxReadBytes ?? limits.maxBytes * 2 + 16 * 1024 * 1024;
  const tar = new TarExtraction(dest, limits);
  const result = tar.result;
  let read = 0;
  try {
    for await (const chunk of source) {
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      read += b.length;
      if (read > maxRead) {
        result.stopped = `the archive is larger than ${maxRead} bytes`;
        break;
      }
      tar.chunks.push(b);
      result.stopped = tar.drain();
      if (result.stopped || tar.ended) break;
    }
    if (!result.stopped && !tar.ended && (tar.current || tar.chunks.length)) result.stopped = 'the archive is truncated (it ends inside an entry)';
  } finally {
    tar.closeCurrent(!result.stopped);
  }
  return result;
}
