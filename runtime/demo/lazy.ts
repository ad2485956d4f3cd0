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
}

export function createDemoNetwork(home: string, env: NodeJS.ProcessEnv, log: Logger): DemoNetwork {
  return {
    async up() {
      const { demoUp } = await import('./network.js');
      return (await demoUp(home, { env, log })).url;
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
