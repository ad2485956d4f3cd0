/**
 * The processes of the demo's local chain (anvil): found by this data folder's chain state,
 * and stopped without ever killing a pid that was reused by something else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, readDevnet } from './devnet.js';
import type { Logger } from '../log.js';

/**
 * The pids of this data folder's local chain: on Linux every anvil whose command line names this
 * folder's chain state (found even before devnet.json names it); elsewhere the pid in devnet.json.
 */
export function demoChainPids(home: string): number[] {
  if (process.platform !== 'linux') {
    try {
      const pid = readDevnet(home)?.pid ?? null;
      return isAlive(pid) ? [pid!] : [];
    } catch {
      return [];
    }
  }
  const stateFile = path.join(home, 'devnet', 'anvil-state.json');
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (isAnvil(argv) && argv.includes(stateFile)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

const isAnvil = (argv: string[]) => path.basename(argv[0] ?? '').startsWith('anvil');

/** Still the chain it was (Linux checks the command line, so a reused pid is never killed). */
function stillAnvil(pid: number): boolean {
  if (process.platform !== 'linux') return isAlive(pid);
  try {
    return isAnvil(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it is still there after `waitMs`. */
export async function endProcess(pid: number | null, waitMs: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid!, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + waitMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    try {
      process.kill(pid!, 'SIGKILL');
    } catch {}
  }
  return true;
}

/**
 * Stops the demo's local chain: every process of this data folder's chain (demoChainPids), or,
 * for a folder deleted or made again since, only the chain pids known from before (`known`).
 */
export async function stopDemoChain(home: string, log?: Logger, options: { known?: number[]; waitMs?: number } = {}): Promise<boolean> {
  const pids = options.known ? options.known.filter(stillAnvil) : demoChainPids(home);
  if (pids.length === 0) return false;
  log?.info('stopping the demo network\'s local chain', { pids });
  await Promise.all(pids.map((pid) => endProcess(pid, options.waitMs ?? 5000)));
  return true;
}
