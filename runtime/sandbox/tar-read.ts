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
import path from 'node:path';

const BLOCK = 512;
/** Most bytes of one PAX or GNU long-name record. */
const MAX_META_BYTES = 64 * 1024;
/** The most reasons kept (the count goes on). */
const MAX_REASONS = 50;

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

type Header = { name: string; size: number; type: string; linkName: string };

/** The entry being read: its data goes to `fd` (a file), `meta` (a PAX or long-name record) or nowhere. */
type Entry = { rel: string; remaining: number; pad: number; fd: number | null; file: string | null; meta: Buffer[] | null; metaType: string; written: number };

/** Chunks in hand, taken from the front. */
class Chunks {
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

function field(h: Buffer, at: number, len: number): string {
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

const KIND: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  '7': 'a contiguous file',
};

/**
 * Reads the archive from `source` into `dest`, a folder this call creates (it must not exist).
 * Never throws for what the archive holds (that ends in `stopped`); throws for the host's own
 * errors (dest exists, disk full).
 */
export async function extractTar(source: AsyncIterable<Uint8Array>, dest: string, limits: TarLimits): Promise<TarReadResult> {
  fs.mkdirSync(dest, { mode: 0o700 });
  const strip = limits.stripComponents ?? 0;
  const maxDepth = limits.maxDepth ?? 32;
  const maxRead = limits.maxReadBytes ?? limits.maxBytes * 2 + 16 * 1024 * 1024;
  const result: TarReadResult = { files: 0, dirs: 0, bytes: 0, skipped: [], skippedCount: 0, stopped: null };
  const skip = (p: string, reason: string) => {
    result.skippedCount++;
    if (result.skipped.length < MAX_REASONS) result.skipped.push({ path: p.slice(0, 300), reason });
  };

  const chunks = new Chunks();
  let read = 0;
  let entries = 0;
  let ended = false;
  let current: Entry | null = null;
  let pax: { path?: string; size?: number } = {};
  let longName: string | null = null;

  const closeCurrent = (complete: boolean) => {
    const c = current;
    current = null;
    if (!c || c.fd === null) return;
    fs.closeSync(c.fd);
    if (!complete && c.file) {
      fs.rmSync(c.file, { force: true });
      result.files--;
      result.bytes -= c.written;
      skip(c.rel, 'cut short: the reading stopped inside it');
    }
  };
  const entry = (rel: string, remaining: number, meta: Buffer[] | null, metaType = ''): Entry => ({
    rel,
    remaining,
    pad: (BLOCK - (remaining % BLOCK)) % BLOCK,
    fd: null,
    file: null,
    meta,
    metaType,
    written: 0,
  });

  /** A folder under dest for `parts`, made part by part (never through anything but a folder we made). */
  const ensureDir = (parts: string[]): string | null => {
    let abs = dest;
    for (const part of parts) {
      abs = path.join(abs, part);
      try {
        fs.mkdirSync(abs, { mode: 0o700 });
        result.dirs++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!fs.lstatSync(abs).isDirectory()) return null;
      }
    }
    return abs;
  };

  const startEntry = (h: Header): string | null => {
    // Meta entries: their data is read whole, then applies to the next entry.
    if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
      if (h.size > MAX_META_BYTES) return `a ${h.type} record of ${h.size} bytes (at most ${MAX_META_BYTES})`;
      current = entry('', h.size, [], h.type);
      return null;
    }
    const name = longName ?? pax.path ?? h.name;
    const size = pax.size ?? h.size;
    longName = null;
    pax = {};
    entries++;
    if (entries > limits.maxEntries) return `more than ${limits.maxEntries} entries`;
    const typed = h.type === '\0' ? '0' : h.type;
    const hasData = typed === '0' || typed === '7' || (typed !== '1' && typed !== '2' && typed !== '3' && typed !== '4' && typed !== '5' && typed !== '6');
    const e = entry(name, hasData ? size : 0, null);
    current = e;
    const parts = safeParts(name, strip, maxDepth);
    if (typeof parts === 'string') {
      skip(name, parts);
      return null;
    }
    const rel = parts.join('/');
    if (typed === '5') {
      if (parts.length && ensureDir(parts) === null) skip(rel, 'a folder where a file is');
      return null;
    }
    if (typed !== '0') {
      skip(rel || name, KIND[typed] ? `${KIND[typed]}: only regular files and folders are kept` : `an entry of type "${typed}": only regular files and folders are kept`);
      return null;
    }
    if (!parts.length) {
      skip(name, 'a file in place of the archived folder');
      return null;
    }
    if (size > limits.maxBytes - result.bytes) {
      skip(rel, `${size} bytes, more than the ${limits.maxBytes - result.bytes} left of the ${limits.maxBytes}-byte cap`);
      return null;
    }
    const dir = ensureDir(parts.slice(0, -1));
    if (dir === null) {
      skip(rel, 'its folder is a file');
      return null;
    }
    const file = path.join(dir, parts.at(-1)!);
    try {
      e.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      skip(rel, 'a name already taken (listed twice, or a folder)');
      return null;
    }
    e.file = file;
    e.rel = rel;
    result.files++;
    return null;
  };

  const finishMeta = (c: Entry) => {
    const data = Buffer.concat(c.meta ?? []);
    if (c.metaType === 'x') pax = parsePax(data);
    else if (c.metaType === 'L') longName = field(data, 0, data.length);
  };

  /** Consumes what is in hand; a string is why reading stops. */
  const drain = (): string | null => {
    for (;;) {
      if (ended) return null;
      if (current) {
        const c: Entry = current;
        if (c.remaining > 0) {
          if (!chunks.length) return null;
          const data = chunks.take(c.remaining);
          c.remaining -= data.length;
          if (c.fd !== null) {
            let at = 0;
            while (at < data.length) at += fs.writeSync(c.fd, data, at, data.length - at);
            c.written += data.length;
            result.bytes += data.length;
          } else if (c.meta) c.meta.push(data);
          if (c.remaining > 0) return null;
        }
        if (c.pad > 0) {
          if (!chunks.length) return null;
          c.pad -= chunks.take(c.pad).length;
          if (c.pad > 0) return null;
        }
        if (c.meta) finishMeta(c);
        closeCurrent(true);
        continue;
      }
      if (chunks.length < BLOCK) return null;
      const block = chunks.take(BLOCK);
      if (block.every((b) => b === 0)) {
        ended = true;
        return null;
      }
      const h = parseHeader(block);
      if (typeof h === 'string') return h;
      const why = startEntry(h);
      if (why) return why;
    }
  };

  try {
    for await (const chunk of source) {
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      read += b.length;
      if (read > maxRead) {
        result.stopped = `the archive is larger than ${maxRead} bytes`;
        break;
      }
      chunks.push(b);
      const why = drain();
      if (why) {
        result.stopped = why;
        break;
      }
      if (ended) break;
    }
    if (!result.stopped && !ended && (current || chunks.length)) result.stopped = 'the archive is truncated (it ends inside an entry)';
  } finally {
    closeCurrent(!result.stopped);
  }
  return result;
}
