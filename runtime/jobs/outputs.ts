/**
 * What a job left in its output folder (<home>/jobs/<id>/output), for the dashboard: the list of
 * files, and one picture as a data URL. The folder's content was written by a stranger's code:
 * links are never followed (each folder is lstat-ed, the file opened with O_NOFOLLOW and its
 * real path checked), paths that leave the folder are refused, and every answer is bounded
 * (files listed, depth, bytes read).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';

export const MAX_LISTED_FILES = 200;
export const MAX_DEPTH = 8;
/** The largest picture sent as a data URL. */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

export interface OutputFile {
  /** Relative to the output folder, with `/`. */
  path: string;
  sizeBytes: number;
  /** From the file's first bytes for pictures, else from its name; application/octet-stream when unknown. */
  mimeType: string;
  modifiedAt: number;
}

export interface OutputListing {
  files: OutputFile[];
  /** More files than MAX_LISTED_FILES (or deeper than MAX_DEPTH) were there. */
  truncated: boolean;
}

const BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
};

/** The picture types a page may show from a data URL (no SVG: it can carry script). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** The picture type by its first bytes, or null when they are not one of IMAGE_TYPES. */
export function sniffImage(head: Uint8Array): (typeof IMAGE_TYPES)[number] | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && head[8] === 0x57 && head[9] === 0x45 && head[10] === 0x42 && head[11] === 0x50) return 'image/webp';
  return null;
}

export function mimeByName(name: string): string {
  return BY_EXTENSION[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Every regular file under `dir` (links and special files skipped, never followed), newest first. */
export function listOutputs(dir: string): OutputListing {
  const files: OutputFile[] = [];
  let truncated = false;
  let root: fs.Stats;
  try {
    root = fs.lstatSync(dir);
  } catch {
    return { files, truncated };
  }
  if (!root.isDirectory()) return { files, truncated };
  const walk = (abs: string, rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_FILES) {
        truncated = true;
        return;
      }
      const childAbs = path.join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(childAbs);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (depth >= MAX_DEPTH) truncated = true;
        else walk(childAbs, childRel, depth + 1);
      } else if (st.isFile()) {
        files.push({ path: childRel, sizeBytes: st.size, mimeType: mimeOf(childAbs, entry.name), modifiedAt: Math.round(st.mtimeMs) });
      }
    }
  };
  walk(dir, '', 1);
  files.sort((a, b) => b.modifiedAt - a.modifiedAt || (a.path < b.path ? -1 : 1));
  return { files, truncated };
}

function mimeOf(abs: string, name: string): string {
  const byName = mimeByName(name);
  if (!byName.startsWith('image/')) return byName;
  // A name that says picture is believed only when the bytes agree.
  const fd = openNoFollow(abs);
  if (fd === null) return 'application/octet-stream';
  try {
    const head = Buffer.alloc(16);
    const n = fs.readSync(fd, head, 0, 16, 0);
    return sniffImage(head.subarray(0, n)) ?? 'application/octet-stream';
  } finally {
    fs.closeSync(fd);
  }
}

function openNoFollow(abs: string): number | null {
  try {
    return fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
}

const SEGMENT = /^[^\0/\\]{1,255}$/;

/** The relative path's parts, or an `invalid-input` error for anything that could leave the folder. */
export function checkOutputPath(rel: string): string[] {
  const refuse = (why: string) => new AppError('invalid-input', `Invalid output path "${rel.slice(0, 200)}": ${why}. Use a path from jobs.outputs.`);
  if (rel.length === 0 || rel.length > 1024) throw refuse('1 to 1024 characters');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) throw refuse('a path inside the job output folder, not an absolute one');
  const parts = rel.split('/');
  for (const part of parts) {
    if (!SEGMENT.test(part)) throw refuse('no empty parts, NUL or backslash');
    if (part === '.' || part === '..') throw refuse('no . or .. parts');
  }
  if (parts.length > MAX_DEPTH) throw refuse(`at most ${MAX_DEPTH} levels deep`);
  return parts;
}

export interface OutputImage {
  path: string;
  mimeType: string;
  sizeBytes: number;
  /** `data:<type>;base64,…` */
  dataUrl: string;
}

/**
 * One picture from `dir` as a data URL: refused when the path leaves the folder or goes through
 * a link, when the file is not a regular file, not a picture by its bytes, or over the cap.
 */
export function readOutputImage(dir: string, rel: string, maxBytes = MAX_IMAGE_BYTES): OutputImage {
  const parts = checkOutputPath(rel);
  const missing = () => new AppError('not-found', `The job has no output file "${rel}". jobs.outputs lists what it has.`);
  const linked = () => new AppError('invalid-input', `The output "${rel}" goes through a link; links in a job's output are never followed.`);
  let rootReal: string;
  try {
    if (!fs.lstatSync(dir).isDirectory()) throw missing();
    rootReal = fs.realpathSync(dir);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw missing();
  }
  // Each folder on the way: a real folder, not a link.
  let abs = dir;
  for (const part of parts.slice(0, -1)) {
    abs = path.join(abs, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      throw missing();
    }
    if (st.isSymbolicLink()) throw linked();
    if (!st.isDirectory()) throw missing();
  }
  abs = path.join(abs, parts.at(-1)!);
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw linked();
    throw missing();
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new AppError('invalid-input', `The output "${rel}" is not a regular file.`);
    // What was opened really lies inside the folder (a folder swapped for a link on the way is caught here).
    if (process.platform === 'linux') {
      let real: string;
      try {
        real = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        real = fs.realpathSync(abs);
      }
      if (!real.startsWith(rootReal + path.sep)) throw linked();
    }
    if (st.size > maxBytes) {
      throw new AppError('too-large', `The output "${rel}" is ${(st.size / 1024 / 1024).toFixed(1)} MiB; pictures up to ${(maxBytes / 1024 / 1024).toFixed(0)} MiB are shown. It is in the job's output folder.`);
    }
    const data = Buffer.alloc(st.size);
    let at = 0;
    while (at < data.length) {
      const n = fs.readSync(fd, data, at, data.length - at, at);
      if (n === 0) break;
      at += n;
    }
    const bytes = data.subarray(0, at);
    const mimeType = sniffImage(bytes.subarray(0, 16));
    if (!mimeType) throw new AppError('not-an-image', `The output "${rel}" is not a PNG, JPEG, GIF or WebP picture, so it is not shown here.`);
    return { path: parts.join('/'), mimeType, sizeBytes: bytes.length, dataUrl: `data:${mimeType};base64,${bytes.toString('base64')}` };
  } finally {
    fs.closeSync(fd);
  }
}
