/**
 * A tar archive of a few in-memory files and folders (POSIX ustar): the root filesystem of a
 * local image (local-image.ts). Pure. Each entry is owned by root; names are at most 100 bytes.
 */

export interface TarEntry {
  name: string;
  /** The file's bytes; none for a folder. */
  data?: Uint8Array;
  /** Permission bits, e.g. 0o644 or 0o755. */
  mode: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits, then the NUL the format wants.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry, mtime: number): Buffer {
  const folder = entry.data === undefined;
  const name = Buffer.from(folder && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name, 'utf8');
  if (entry.name.length === 0 || name.length > 100 || entry.name.includes('\0')) throw new Error(`tar: bad file name "${entry.name}"`);
  const h = Buffer.alloc(BLOCK, 0);
  name.copy(h, 0);
  h.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(entry.data?.length ?? 0, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum counts its own field as spaces
  h.write(folder ? '5' : '0', 156, 'ascii'); // folder or regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** The archive: a header and the padded data of each entry, then two empty blocks. */
export function makeTar(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime));
    if (!entry.data) continue;
    parts.push(Buffer.from(entry.data));
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
