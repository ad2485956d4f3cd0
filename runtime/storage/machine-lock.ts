/**
 * A lock shared by every Offshift process on this machine, for the few moments two agents must
 * not overlap (choosing the local chain's usual port and binding it: two agents starting at once
 * both found it free, and the one that lost the bind took the winner's chain for its own).
 * It is a directory made atomically in the system's temp folder, naming its holder's pid; one
 * left by a process that died is taken over. It narrows a race and never blocks for long: after
 * `waitMs` the caller goes on without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MachineLockOptions {
  /** How long to wait for another holder (then go on without the lock). */
  waitMs?: number;
  /** A lock older than this is taken over whoever holds it (a holder never needs this long). */
  staleMs?: number;
  dir?: string;
}

export async function withMachineLock<T>(name: string, fn: () => Promise<T>, options: MachineLockOptions = {}): Promise<T> {
  const lock = path.join(options.dir ?? os.tmpdir(), `offshift-${name}.lock`);
  const held = await acquire(lock, options.waitMs ?? 30_000, options.staleMs ?? 60_000);
  try {
    return await fn();
  } finally {
    if (held) fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function acquire(lock: string, waitMs: number, staleMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.mkdirSync(lock, { mode: 0o700 });
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false; // no temp folder to lock in: go on without
    }
    if (abandoned(lock, staleMs)) {
      try {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      } catch {
        // another user's lock: wait for it like any other
      }
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Its holder is gone, or it is older than any holder needs. A lock just made may not name its pid yet. */
function abandoned(lock: string, staleMs: number): boolean {
  let pid = NaN;
  let age = 0;
  try {
    age = Date.now() - fs.statSync(lock).mtimeMs;
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // no pid file yet (or gone meanwhile): judged by its age alone
  }
  if (age > staleMs) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
