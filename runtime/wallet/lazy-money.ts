/**
 * The money service, loaded on first use. Its code pulls in ethers (about 11 MB of resident
 * memory) that an idle agent without a wallet never needs: it loads at start when a wallet
 * exists (to reconcile with the chain), and otherwise on the first wallet.* or earnings.* command.
 */
import type { Handler } from '../api/contract.js';
import type { EventBus } from '../api/events.js';
import type { Logger } from '../log.js';
import { keystoreExists } from './keystore-file.js';
import { readMachineFacts, type MachineFacts } from './machine-id.js';
import type { MoneyCommand, MoneyService } from './money.js';
import type { PayoutSource } from './payout.js';

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

export function createLazyMoney(options: {
  home: string;
  log: Logger;
  bus: EventBus;
  scryptN?: number;
  /** The agent's environment: OFFSHIFT_MACHINE_ID_FILE (tests) is read from it. */
  env?: NodeJS.ProcessEnv;
  /** The service's wallet password file: a copied data folder's new identity uses the same password. */
  passwordFile?: string;
  /** The agent's settings and policy, which the payout address is read from. */
  payout?: PayoutSource;
}): LazyMoney {
  let loading: Promise<MoneyService> | null = null;
  let stopped = false;
  let facts: Promise<MachineFacts> | null = null;
  const machineFacts = () => (facts ??= readMachineFacts(options.env));
  const load = () =>
    (loading ??= (async () => {
      // Before the wallet opens, and so before any market sign-in: a key copied from another machine is moved aside.
      const { checkMachineIdentity } = await import('./identity-check.js');
      const outcome = await checkMachineIdentity({ home: options.home, log: options.log, facts: await machineFacts(), passwordFile: options.passwordFile, scryptN: options.scryptN });
      if (outcome.kind === 'copied') options.bus.emit('notice', { level: 'warn', title: 'This data folder was copied from another machine', message: outcome.message });
      const m = await import('./money.js');
      const service = m.createMoneyService({ ...options, machineFacts });
      if (!stopped) service.start();
      return service;
    })());
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
