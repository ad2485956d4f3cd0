/**
 * The demo network as the agent sees it. Its code pulls in ethers (the local chain): loaded
 * only when the demo is used, so an idle agent without a marketplace stays light.
 */
import type { Logger } from '../log.js';
import type { MoneyService } from '../wallet/money.js';

export interface DemoNetwork {
  /** Starts what is not running yet; resolves with the demo market's URL. */
  up(): Promise<string>;
  createDemoWallet(money: MoneyService): Promise<void>;
  fund(address: string): Promise<void>;
  /** Stops what runs inside this process (the market and buyer, in the desktop app). */
  stop(): Promise<void>;
}

/**
 * The packaged desktop app cannot start a second Node from its own binary (the runAsNode fuse is
 * off): there the market and the demo buyer run inside the agent's process, and stop with it.
 * Elsewhere they run as one detached process that outlives the agent, like the chain.
 */
export function demoRunsInProcess(env: NodeJS.ProcessEnv): boolean {
  return process.versions.electron !== undefined || env.OFFSHIFT_DEMO_IN_PROCESS === '1';
}

export function createDemoNetwork(home: string, env: NodeJS.ProcessEnv, log: Logger): DemoNetwork {
  let inProcess: { controller: AbortController; done: Promise<void> } | null = null;
  return {
    async up() {
      const { demoUp, demoUpInProcess } = await import('./network.js');
      if (!demoRunsInProcess(env)) return (await demoUp(home, { env, log })).url;
      if (inProcess === null) {
        const controller = new AbortController();
        const started = await demoUpInProcess(home, { env, log, signal: controller.signal });
        inProcess = { controller, done: started.done };
        return started.url;
      }
      const { readDemoState } = await import('./network.js');
      const url = readDemoState(home)?.url;
      if (!url) throw new Error('the demo market inside this process has stopped; restart Offshift');
      return url;
    },
    async stop() {
      if (!inProcess) return;
      inProcess.controller.abort();
      await inProcess.done.catch(() => {});
      inProcess = null;
    },
    async createDemoWallet(money) {
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
