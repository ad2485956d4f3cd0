/**
 * A job's own folders on the host, <home>/jobs/<id>/: `input` (staged by the agent, mounted
 * read-only at /input) and `output` (mounted at /output: a size-capped tmpfs the agent mounts
 * there, collected into a plain folder when the job ends). Mounting needs CAP_SYS_ADMIN; an agent
 * without it gives /output through a Docker volume instead (output-volume.ts, job-outputs.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../errors.js';

const run = promisify(execFile);

export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** Writes the job's inputs (relative path → content) into its input folder, refusing escapes. */
export function stageInputs(dir: string, inputs: Record<string, string | Uint8Array>): void {
  let total = 0;
  for (const [rel, content] of Object.entries(inputs)) {
    const normal = path.posix.normalize(rel);
    if (!rel || path.isAbsolute(rel) || normal.startsWith('..') || normal.includes('/../') || normal === '.') {
      throw new AppError('invalid-input', `Invalid job input "${rel}": an input is a relative path inside /input.`);
    }
    total += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    if (total > MAX_INPUT_BYTES) throw new AppError('invalid-input', `Invalid job inputs: more than ${MAX_INPUT_BYTES / 1024 / 1024} MiB.`);
    const file = path.join(dir, normal);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, content, { mode: 0o644 });
  }
}

export { canMountOutput } from './mount-capability.js';

export async function isMountPoint(dir: string): Promise<boolean> {
  try {
    const a = fs.statSync(dir);
    const b = fs.statSync(path.dirname(dir));
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

/** Mounts a tmpfs of `sizeMiB` owned by the job's user at `dir`. */
export async function mountOutput(dir: string, sizeMiB: number, uid: number, gid: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (await isMountPoint(dir)) return;
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,uid=${uid},gid=${gid},mode=0700,nosuid,nodev`, 'tmpfs', dir], { timeout: 10_000 });
}

/**
 * Copies what the job left in its output tmpfs (regular files and folders only: links, FIFOs
 * and devices are skipped, never followed) into a plain folder at the same place, and unmounts.
 */
export async function collectOutput(dir: string): Promise<{ files: number; bytes: number }> {
  if (!(await isMountPoint(dir))) return { files: 0, bytes: 0 };
  const staging = `${dir}.collect`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o700 });
  let files = 0;
  let bytes = 0;
  const walk = (from: string, to: string) => {
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
      const src = path.join(from, entry.name);
      const dst = path.join(to, entry.name);
      if (entry.isDirectory()) {
        fs.mkdirSync(dst, { mode: 0o700 });
        walk(src, dst);
      } else if (entry.isFile()) {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, 0o600);
        files++;
        bytes += fs.statSync(dst).size;
      }
    }
  };
  walk(dir, staging);
  await unmountOutput(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
  return { files, bytes };
}

/** Unmounts the output tmpfs, every layer of it (an interrupted start may have mounted it twice). */
export async function unmountOutput(dir: string): Promise<void> {
  for (let layer = 0; layer < 8 && (await isMountPoint(dir)); layer++) {
    await run('umount', [dir], { timeout: 10_000 }).catch(() => run('umount', ['-l', dir], { timeout: 10_000 }));
  }
}
