/**
 * The demo network as the agent sees it. Its code pulls in ethers (the local chain): loaded
 * only when the demo is used, so an idle agent without a marketplace stays light.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { DEMO_DIR, folderId } from './paths.js';
import type { DemoNetwork } from '../market/demo-network.js';

/**
 * How long the agent's stop waits for the detached `demo serve` to end on SIGTERM before SIGKILL
 * (its market's SQLite is safe either way). With the chain's 1 s this stays well inside the
 * agent's 4 s stop deadline, also when `demo serve` is still starting and not yet listening.
 */
const SERVE_STOP_WAIT_MS = 1500;

/** How long the agent's stop waits for the in-process market and buyer to close. */
const STOP_WAIT_MS = 2000;

export type { DemoNetwork } from '../market/demo-network.js';

/**
 * The packaged desktop app cannot start a second Node from its own binary (the runAsNode fuse is
 * off): there the market and the demo buyer run inside the agent's process, and stop with it.
 * Elsewhere they run as one detached process (so a dashboard or `demo status` sees it apart from
 * the agent), which ends with the agent all the same (lifetime.ts).
 */
export function demoRunsInProcess(env: NodeJS.ProcessEnv): boolean {
  return process.versions.electron !== undefined || env.OFFSHIFT_DEMO_IN_PROCESS === '1';
}

export function createDemoNetwork(home: string, env: NodeJS.ProcessEnv, log: Logger): DemoNetwork {
  /** The in-process market and buyer (desktop app mode): aborting `controller` stops them. */
  let inProcess: { controller: AbortController; done: Promise<void> | null; guardPid: number | null } | null = null;
  let used = false;
  // stop() ends a start in flight too: the agent's stop never waits for the network to come up.
  let stopping = new AbortController();
  // The data folder the agent started with: nothing of the demo is made in one deleted (or made again) since.
  const homeId = folderId(home);
  const sameHome = () => {
    if (folderId(home) !== homeId) throw new Error(`the data folder ${home} was deleted since the agent started: restart the agent`);
  };
  const unlessStopped = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([promise, new Promise<never>((_, reject) => stopping.signal.addEventListener('abort', () => reject(new Error('the agent is stopping')), { once: true }))]);
  return {
    async up() {
      sameHome();
      used = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      const { demoUp, demoUpInProcess } = await import('./network.js');
      const { readDemoState } = await import('./state.js');
      if (!demoRunsInProcess(env)) return (await unlessStopped(demoUp(home, { env, log, owner: process.pid }))).url;
      if (inProcess === null) {
        const controller = new AbortController();
        inProcess = { controller, done: null, guardPid: null };
        try {
          const started = await demoUpInProcess(home, { env, log, signal: controller.signal });
          inProcess.done = started.done;
          inProcess.guardPid = started.guardPid;
          return started.url;
        } catch (error) {
          controller.abort();
          inProcess = null;
          throw error;
        }
      }
      const url = readDemoState(home)?.url;
      if (!url) throw new Error('the demo market inside this process has stopped; restart Offshift');
      return url;
    },
    async stop() {
      stopping.abort();
      if (!used) return;
      used = false; // the agent's stop and the market service's each stop it: the second has nothing left to do
      const { stopOwnedDemo } = await import('./network.js');
      const { readDemoState } = await import('./state.js');
      const { endProcess, stopDemoChain } = await import('./chain-processes.js');
      if (!inProcess) {
        if (await stopOwnedDemo(home, process.pid, SERVE_STOP_WAIT_MS)) log.info('the demo network is stopped (it ends with the agent that started it)');
        return;
      }
      const running = inProcess;
      inProcess = null;
      running.controller.abort();
      // The market closes its sockets and the buyer waits for nothing: this takes well under a second.
      if (running.done) await Promise.race([running.done, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
      await stopDemoChain(home, log, { waitMs: 1000 });
      // A start cut short may still bring the chain up: then the guard stays, and stops it once this agent is gone.
      if (running.done) await endProcess(running.guardPid ?? readDemoState(home)?.guardPid ?? null, 1000);
      log.info('the demo network is stopped (it ends with the agent that started it)');
    },
    jobs() {
      return readDemoJobs(home);
    },
    async createDemoWallet(money) {
      sameHome();
      const { createDemoWallet } = await import('./wallet.js');
      const address = await createDemoWallet(home, money);
      log.info('demo wallet created (test tokens only)', { address });
    },
    async fund(address) {
      const { fundForGas } = await import('./wallet.js');
      await fundForGas(home, address);
    },
  };
}

/** demo.json's `jobs`, read without the state module (zod and the rest stay unloaded for a status call). */
export function readDemoJobs(home: string): { gpu: boolean; reason: string } | null {
  try {
    const jobs = (JSON.parse(fs.readFileSync(path.join(home, DEMO_DIR, 'demo.json'), 'utf8')) as { jobs?: unknown }).jobs;
    if (jobs && typeof jobs === 'object' && typeof (jobs as { gpu?: unknown }).gpu === 'boolean' && typeof (jobs as { reason?: unknown }).reason === 'string') {
      const { gpu, reason } = jobs as { gpu: boolean; reason: string };
      return { gpu, reason };
    }
    return null;
  } catch {
    return null;
  }
}
