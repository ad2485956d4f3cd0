/**
 * The money service, loaded on first use. Its code pulls in ethers (about 11 MB of resident
 * memory) that an idle agent without a wallet never needs: it loads at start when a wallet
 * exists (to reconcile with the chain), and otherwise on the first wallet.* or earnings.* command.
 */
import type { Handler } from '../api/contract.js';
import type { EventBus } from '../api/events.js';
import type { Logger } from '../log.js';
import { keystoreExists } from './keystore-file.js';
import type { MoneyCommand, MoneyService } from './money.js';

export const MONEY_COMMANDS = [
  'wallet.status',
  'wallet.create',
  'wallet.import',
  'wallet.unlock',
  'wallet.lock',
  'wallet.export',
  'wallet.addVoucher',
  'wallet.redeem',
  'wallet.reconcile',
  'wallet.prepareWithdraw',
  'wallet.withdraw',
  'wallet.settings',
  'earnings.summary',
  'earnings.series',
  'earnings.byGpu',
  'earnings.jobs',
  'earnings.exportCsv',
] as const satisfies readonly MoneyCommand[];

// Every money command is listed above (a missing one fails to compile here).
type Missing = Exclude<MoneyCommand, (typeof MONEY_COMMANDS)[number]>;
const everyCommandListed: [Missing] extends [never] ? true : Missing = true;
void everyCommandListed;

export interface LazyMoney {
  handlers: { [K in MoneyCommand]: Handler<K> };
  /** The service, loading it (and starting its reconciliation loop) if needed. */
  load(): Promise<MoneyService>;
  /** Loads it now when a wallet exists; an agent without one stays light. */
  start(): void;
  stop(): Promise<void>;
}

export function createLazyMoney(options: { home: string; log: Logger; bus: EventBus; scryptN?: number }): LazyMoney {
  let loading: Promise<MoneyService> | null = null;
  let stopped = false;
  const load = () =>
    (loading ??= import('./money.js').then((m) => {
      const service = m.createMoneyService(options);
      if (!stopped) service.start();
      return service;
    }));
  const handlers = Object.fromEntries(
    MONEY_COMMANDS.map((name) => [name, async (input: unknown) => ((await load()).handlers[name] as (i: unknown) => Promise<unknown>)(input)]),
  ) as LazyMoney['handlers'];
  return {
    handlers,
    load,
    start() {
      if (keystoreExists(options.home)) {
        load().catch((error: unknown) => options.log.error('the wallet could not start', { error: (error as Error).message }));
      }
    },
    async stop() {
      stopped = true;
      if (loading) await (await loading).stop();
    },
  };
}
