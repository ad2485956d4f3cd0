/**
 * Keeps the admin policy current: reads it at start and again when it changes. Watches the
 * file's folder (so a file created, replaced by rename, or deleted is seen) and also polls its
 * stat every few seconds, because folder watches miss changes on some file systems and the
 * folder itself may not exist yet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadPolicy } from './load.js';
import type { LoadedPolicy } from './schema.js';

export interface PolicyWatcher {
  readonly current: LoadedPolicy;
  /** Re-reads now; returns the policy. */
  reload(): LoadedPolicy;
  onChange(listener: (policy: LoadedPolicy) => void): () => void;
  close(): void;
}

export function watchPolicy(file: string, options: { pollMs?: number; debounceMs?: number } = {}): PolicyWatcher {
  let current = loadPolicy(file);
  let lastStamp = stamp(file);
  const listeners = new Set<(p: LoadedPolicy) => void>();
  let timer: NodeJS.Timeout | null = null;

  const reload = (): LoadedPolicy => {
    lastStamp = stamp(file);
    const next = loadPolicy(file);
    const changed = JSON.stringify(next) !== JSON.stringify(current);
    current = next;
    if (changed) for (const l of listeners) l(next);
    return next;
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload();
    }, options.debounceMs ?? 100);
    timer.unref();
  };

  let dirWatcher: fs.FSWatcher | null = null;
  try {
    dirWatcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (!name || name.toString() === path.basename(file)) schedule();
    });
    dirWatcher.on('error', () => {
      dirWatcher?.close();
      dirWatcher = null;
    });
  } catch {
    // The folder does not exist (no policy yet): the poll below notices one appearing.
  }
  const poll = setInterval(() => {
    if (stamp(file) !== lastStamp) schedule();
  }, options.pollMs ?? 2000);
  poll.unref();

  return {
    get current() {
      return current;
    },
    reload,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      dirWatcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}

function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
}
