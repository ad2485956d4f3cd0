/**
 * The tar format as read by tar-read.ts: header blocks (ustar with its name prefix), PAX records,
 * the path rules (no absolute paths, no `..`, a depth cap) and the byte queue the reader takes
 * blocks from. Pure: no file is touched here.
 */
export const BLOCK = 512;
/** Most bytes of one PAX or GNU long-name record. */
export const MAX_META_BYTES = 64 * 1024;
/** The most reasons kept (the count goes on). */
export const MAX_REASONS = 50;

export interface TarLimits {
  /** Most bytes of file data written. */
  maxBytes: number;
  /** Most entries (files, folders, skipped ones) read. */
  maxEntries: number;
  /** Most bytes read from the archive in all, skipped data included (default 2 × maxBytes + 16 MiB). */
  maxReadBytes?: number;
  /** Leading path parts to drop (1 for the engine's archive of /output, whose entries start with `output/`). */
  stripComponents?: number;
  /** Deepest folder level (default 32). */
  maxDepth?: number;
}

export interface TarSkip {
  path: string;
  reason: string;
}

export interface TarReadResult {
  files: number;
  dirs: number;
  /** File data written. */
  bytes: number;
  /** Entries not written, with why (the first MAX_REASONS). */
  skipped: TarSkip[];
  skippedCount: number;
  /** Why the reading stopped before the archive's end, or null when it was read to its end. */
  stopped: string | null;
}

export type Header = { name: string; size: number; type: string; linkName: string };

/** The entry being read: its data goes to `fd` (a file), `meta` (a PAX or long-name record) or nowhere. */
export type Entry = { rel: string; remaining: number; pad: number; fd: number | null; file: string | null; meta: Buffer[] | null; metaType: string; written: number };

/** Chunks in hand, taken from the front. */
export class Chunks {
  private list: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length) {
      this.list.push(b);
      this.length += b.length;
    }
  }
  /** Up to n bytes from the front (fewer when fewer are here). */
  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let want = Math.min(n, this.length);
    while (want > 0) {
      const head = this.list[0]!;
      if (head.length <= want) {
        parts.push(head);
        this.list.shift();
        want -= head.length;
        this.length -= head.length;
      } else {
        parts.push(head.subarray(0, want));
        this.list[0] = head.subarray(want);
        this.length -= want;
        want = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

export function field(h: Buffer, at: number, len: number): string {
  const raw = h.subarray(at, at + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

/** An octal number field, or null when it is not one (base-256 included: no file here is that large). */
function octalField(h: Buffer, at: number, len: number): number | null {
  if (h[at]! & 0x80) return null;
  const text = field(h, at, len).replace(/[ ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]{0,12}$/.test(text)) return null;
  return text ? parseInt(text, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const stored = octalField(h, 148, 8);
  if (stored === null) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === stored;
}

/** Parses the header block; a string is why it cannot be read. */
export function parseHeader(h: Buffer): Header | string {
  if (!checksumOk(h)) return 'a header with a wrong checksum (not a tar archive, or corrupt)';
  const size = octalField(h, 124, 12);
  if (size === null) return 'a header with an unreadable size';
  let name = field(h, 0, 100);
  const magic = h.subarray(257, 262).toString('latin1');
  if (magic === 'ustar') {
    const prefix = field(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return { name, size, type: String.fromCharCode(h[156]!) || '0', linkName: field(h, 157, 100) };
}

/** PAX records (`<len> <key>=<value>\n`): the ones that matter here. */
export function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) {
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'size' && /^\d{1,15}$/.test(value)) out.size = Number(value);
    }
    at += len;
  }
  return out;
}

/**
 * The path's parts below the folder (after `strip` leading parts), or why it is refused. An empty
 * list is the archive's own top folder.
 */
export function safeParts(name: string, strip: number, maxDepth: number): string[] | string {
  if (name.includes('\0')) return 'a NUL in its name';
  if (name.startsWith('/')) return 'an absolute path';
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return 'a path that leaves the folder (..)';
  const kept = parts.slice(strip);
  if (parts.length < strip) return 'outside the archived folder';
  if (kept.length > maxDepth) return `deeper than ${maxDepth} levels`;
  if (kept.some((p) => Buffer.byteLength(p) > 255)) return 'a name longer than 255 bytes';
  return kept;
}

export const KIND: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  '7': 'a contiguous file',
};
