/**
 * `offshift demo guard`: where the demo market and buyer run inside the agent (the desktop app's
 * mode), the local chain is still a process of its own. This small detached process, started
 * before the chain, stops it when that agent is gone, however it ended (SIGKILL included), or
 * when the data folder is gone. It ends with that, when another agent took the network over, or
 * when the agent stops the network itself (SIGTERM).
 */
import { isAlive } from './devnet.js';
import type { Logger } from '../log.js';
import { demoFolderId, endOfLife } from './lifetime.js';
import { demoChainPids, stopDemoChain } from './chain-processes.js';
import { readDemoState } from './state.js';
import { pause } from './waits.js';

export async function guardDemoChain(home: string, owner: number, log: Logger, signal: AbortSignal, intervalMs = 1000): Promise<string> {
  const folder = demoFolderId(home);
  let known: number[] = [];
  while (!signal.aborted) {
    const ours = folder !== null && demoFolderId(home) === folder;
    if (ours) known = demoChainPids(home);
    const reason = endOfLife({ owner: { pid: owner, alive: isAlive(owner) }, homeExists: ours, lastConnectedAt: Date.now(), now: Date.now(), idleMs: Infinity });
    if (reason) {
      log.info(`the demo network stops: ${reason}`);
      await stopDemoChain(home, log, ours ? {} : { known });
      return reason;
    }
    // A newer agent that took the network over watches it with a guard of its own.
    const state = readDemoState(home);
    if (state && state.ownerPid !== owner) return `the demo network belongs to ${state.ownerPid === null ? 'no agent' : `the agent with pid ${state.ownerPid}`} now`;
    await pause(intervalMs, signal);
  }
  return 'stopped';
}
