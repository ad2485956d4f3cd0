/**
 * How long the demo network lives. It exists for the agent that started it: it ends when that
 * agent is gone (a clean stop, a crash, SIGKILL), when its data folder is gone, and, when it has
 * no such agent (`offshift demo up` by hand), when no agent has been connected to its market for
 * a few minutes. `endOfLife` is the rule; `watchLifetime` applies it once a second.
 */
import path from 'node:path';
import { isAlive } from './devnet.js';
import { DEMO_DIR, folderId } from './paths.js';

/** How long the demo network waits for an agent when none started it (or its agent left it). */
export const DEFAULT_DEMO_IDLE_MS = 5 * 60_000;
const WATCH_INTERVAL_MS = 1000;

export interface LifetimeFacts {
  /** The agent the network belongs to: null when none (started by hand), else whether it still runs. */
  owner: { pid: number; alive: boolean } | null;
  /** The data folder and its demo/ folder are still there (the same folder, not one made again). */
  homeExists: boolean;
  /** When an agent was last connected to the demo market (or when the network started). */
  lastConnectedAt: number;
  now: number;
  idleMs: number;
}

/** Why the demo network must stop now, or null while it has a reason to run. Pure. */
export function endOfLife(f: LifetimeFacts): string | null {
  if (!f.homeExists) return 'its data folder is gone';
  if (f.owner && !f.owner.alive) return `the agent that started it (pid ${f.owner.pid}) is gone`;
  if (!f.owner && f.now - f.lastConnectedAt >= f.idleMs) {
    return `no agent has been connected to it for ${Math.round(f.idleMs / 1000)} s (it starts again with the agent, or \`offshift demo up\`)`;
  }
  return null;
}

export function demoFolderId(home: string): string | null {
  return folderId(path.join(home, DEMO_DIR));
}

export function demoHomeExists(home: string): boolean {
  return demoFolderId(home) !== null;
}

/**
 * Checks the rule once a second until it says stop, then calls `onEnd` once with the reason.
 * `owner()` is read each time (an agent may adopt a network started by hand); `connected()` is
 * whether an agent is connected now.
 */
export function watchLifetime(options: { home: string; owner: () => number | null; connected: () => boolean; idleMs: number; onEnd: (reason: string) => void; now?: () => number; intervalMs?: number }): { stop(): void } {
  const now = options.now ?? Date.now;
  let lastConnectedAt = now();
  // The folder it started in: one deleted and made again (by a new agent) is not it.
  const folder = demoFolderId(options.home);
  let ownerSeen: number | null = null;
  const timer = setInterval(() => {
    const pid = options.owner();
    // A network left by its agent waits for the next one from then on, not from its start.
    if (pid !== ownerSeen) lastConnectedAt = Math.max(lastConnectedAt, now());
    ownerSeen = pid;
    if (options.connected()) lastConnectedAt = now();
    const reason = endOfLife({ owner: pid === null ? null : { pid, alive: isAlive(pid) }, homeExists: folder !== null && demoFolderId(options.home) === folder, lastConnectedAt, now: now(), idleMs: options.idleMs });
    if (reason === null) return;
    clearInterval(timer);
    options.onEnd(reason);
  }, options.intervalMs ?? WATCH_INTERVAL_MS);
  return { stop: () => clearInterval(timer) };
}
