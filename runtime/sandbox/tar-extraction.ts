/**
 * One archive being read into one folder: the state extractTar carries from chunk to chunk (the
 * entry being written, a pending PAX or long-name record, the counts) and the steps on it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BLOCK, Chunks, KIND, MAX_META_BYTES, MAX_REASONS, field, parseHeader, parsePax, safeParts, type Entry, type Header, type TarLimits, type TarReadResult } from './tar-format.js';

const META_TYPES = new Set(['x', 'g', 'L', 'K']);
const NO_DATA_TYPES = new Set(['1', '2', '3', '4', '5', '6']);

function newEntry(rel: string, remaining: number, meta: Buffer[] | null, metaType = ''): Entry {
  return { rel, remaining, pad: (BLOCK - (remaining % BLOCK)) % BLOCK, fd: null, file: null, meta, metaType, written: 0 };
}

export class TarExtraction {
  readonly result: TarReadResult = { files: 0, dirs: 0, bytes: 0, skipped: [], skippedCount: 0, stopped: null };
  readonly chunks = new Chunks();
  /** The end-of-archive block was read. */
  ended = false;
  current: Entry | null = null;
  private entries = 0;
  private pax: { path?: string; size?: number } = {};
  private longName: string | null = null;
  private readonly strip: number;
  private readonly maxDepth: number;

  constructor(
    private readonly dest: string,
    private readonly limits: TarLimits,
  ) {
    this.strip = limits.stripComponents ?? 0;
    this.maxDepth = limits.maxDepth ?? 32;
  }

  skip(p: string, reason: string): void {
    this.result.skippedCount++;
    if (this.result.skipped.length < MAX_REASONS) this.result.skipped.push({ path: p.slice(0, 300), reason });
  }

  /** Closes the file being written; one left incomplete is removed and reported. */
  closeCurrent(complete: boolean): void {
    const c = this.current;
    this.current = null;
    if (!c || c.fd === null) return;
    fs.closeSync(c.fd);
    if (!complete && c.file) {
      fs.rmSync(c.file, { force: true });
      this.result.files--;
      this.result.bytes -= c.written;
      this.skip(c.rel, 'cut short: the reading stopped inside it');
    }
  }

  /** Consumes what is in hand; a string is why reading stops. */
  drain(): string | null {
    for (;;) {
      if (this.ended) return null;
      if (this.current) {
        if (!this.consumeData(this.current)) return null;
        continue;
      }
      if (this.chunks.length < BLOCK) return null;
      const block = this.chunks.take(BLOCK);
      if (block.every((b) => b === 0)) {
        this.ended = true;
        return null;
      }
      const h = parseHeader(block);
      if (typeof h === 'string') return h;
      const why = this.startEntry(h);
      if (why) return why;
    }
  }

  /** Feeds the current entry its data and padding; true once it is whole (and closed). */
  private consumeData(c: Entry): boolean {
    if (c.remaining > 0) {
      if (!this.chunks.length) return false;
      const data = this.chunks.take(c.remaining);
      c.remaining -= data.length;
      if (c.fd !== null) {
        let at = 0;
        while (at < data.length) at += fs.writeSync(c.fd, data, at, data.length - at);
        c.written += data.length;
        this.result.bytes += data.length;
      } else if (c.meta) c.meta.push(data);
      if (c.remaining > 0) return false;
    }
    if (c.pad > 0) {
      if (!this.chunks.length) return false;
      c.pad -= this.chunks.take(c.pad).length;
      if (c.pad > 0) return false;
    }
    if (c.meta) this.finishMeta(c);
    this.closeCurrent(true);
    return true;
  }

  private finishMeta(c: Entry): void {
    const data = Buffer.concat(c.meta ?? []);
    if (c.metaType === 'x') this.pax = parsePax(data);
    else if (c.metaType === 'L') this.longName = field(data, 0, data.length);
  }

  /** Begins the entry of header `h`; a string is why reading stops. */
  private startEntry(h: Header): string | null {
    // Meta entries: their data is read whole, then applies to the next entry.
    if (META_TYPES.has(h.type)) {
      if (h.size > MAX_META_BYTES) return `a ${h.type} record of ${h.size} bytes (at most ${MAX_META_BYTES})`;
      this.current = newEntry('', h.size, [], h.type);
      return null;
    }
    const name = this.longName ?? this.pax.path ?? h.name;
    const size = this.pax.size ?? h.size;
    this.longName = null;
    this.pax = {};
    this.entries++;
    if (this.entries > this.limits.maxEntries) return `more than ${this.limits.maxEntries} entries`;
    const typed = h.type === '\0' ? '0' : h.type;
    const e = newEntry(name, NO_DATA_TYPES.has(typed) ? 0 : size, null);
    this.current = e;
    const parts = safeParts(name, this.strip, this.maxDepth);
    if (typeof parts === 'string') this.skip(name, parts);
    else if (typed === '5') this.makeFolder(parts);
    else if (typed !== '0') this.skip(parts.join('/') || name, `${KIND[typed] ?? `an entry of type "${typed}"`}: only regular files and folders are kept`);
    else this.openFile(e, name, parts, size);
    return null;
  }

  private makeFolder(parts: string[]): void {
    if (parts.length && this.ensureDir(parts) === null) this.skip(parts.join('/'), 'a folder where a file is');
  }

  /** Opens the file entry `e` will be written to, or reports why it is skipped. */
  private openFile(e: Entry, name: string, parts: string[], size: number): void {
    const rel = parts.join('/');
    const left = this.limits.maxBytes - this.result.bytes;
    if (!parts.length) return this.skip(name, 'a file in place of the archived folder');
    if (size > left) return this.skip(rel, `${size} bytes, more than the ${left} left of the ${this.limits.maxBytes}-byte cap`);
    const dir = this.ensureDir(parts.slice(0, -1));
    if (dir === null) return this.skip(rel, 'its folder is a file');
    const file = path.join(dir, parts.at(-1)!);
    try {
      e.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return this.skip(rel, 'a name already taken (listed twice, or a folder)');
    }
    e.file = file;
    e.rel = rel;
    this.result.files++;
  }

  /** A folder under dest for `parts`, made part by part (never through anything but a folder we made). */
  private ensureDir(parts: string[]): string | null {
    let abs = this.dest;
    for (const part of parts) {
      abs = path.join(abs, part);
      try {
        fs.mkdirSync(abs, { mode: 0o700 });
        this.result.dirs++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!fs.lstatSync(abs).isDirectory()) return null;
      }
    }
    return abs;
  }
}
