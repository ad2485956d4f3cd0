/**
 * The agent's money capability: one database connection, the ledger, the wallet and the
 * earnings queries, their API handlers, and the reconciliation loop (on start, then every few
 * minutes, followed by the automatic redeem when the owner set a threshold).
 */
import path from 'node:path';
import type { Handler } from '../api/contract.js';
import type { EventBus } from '../api/events.js';
import { Ledger } from '../ledger/ledger.js';
import { EarningsService } from '../ledger/service.js';
import type { Logger } from '../log.js';
import { DATABASE_FILE, openDatabase, type Db } from '../storage/database.js';
import type { MachineFacts } from './machine-id.js';
import type { PayoutSource } from './payout.js';
import { WalletService, type WalletServiceOptions } from './service.js';

export const RECONCILE_INTERVAL_MS = 3 * 60_000;

export type MoneyCommand =
  | 'wallet.status'
  | 'wallet.create'
  | 'wallet.import'
  | 'wallet.unlock'
  | 'wallet.lock'
  | 'wallet.export'
  | 'wallet.addVoucher'
  | 'wallet.redeem'
  | 'wallet.reconcile'
  | 'wallet.prepareWithdraw'
  | 'wallet.withdraw'
  | 'wallet.settings'
  | 'earnings.summary'
  | 'earnings.series'
  | 'earnings.byGpu'
  | 'earnings.jobs'
  | 'earnings.exportCsv';

export interface MoneyService extends MoneyParts {
  handlers: { [K in MoneyCommand]: Handler<K> };
  /** One reconciliation (and auto-redeem) pass; errors are logged, never thrown. */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** The wallet, the ledger and the earnings queries over one database connection. */
export interface MoneyParts {
  db: Db;
  ledger: Ledger;
  wallet: WalletService;
  earnings: EarningsService;
}

/** Opens the money over the data folder (or over `db`): the agent's capability and the CLI's local services. */
export function openMoneyParts(options: {
  home: string;
  log: Logger;
  scryptN?: number;
  db?: Db;
  onUpdate?: WalletServiceOptions['onUpdate'];
  machineFacts?: () => Promise<MachineFacts>;
  payout?: PayoutSource;
}): MoneyParts {
  const db = options.db ?? openDatabase(path.join(options.home, DATABASE_FILE));
  const ledger = new Ledger(db);
  const wallet = new WalletService({ home: options.home, ledger, log: options.log, scryptN: options.scryptN, onUpdate: options.onUpdate, machineFacts: options.machineFacts, payout: options.payout });
  const earnings = new EarningsService({ ledger, token: () => wallet.tokenMeta() });
  return { db, ledger, wallet, earnings };
}

export function createMoneyService(options: {
  home: string;
  log: Logger;
  bus: EventBus;
  scryptN?: number;
  reconcileIntervalMs?: number;
  db?: Db;
  machineFacts?: () => Promise<MachineFacts>;
  payout?: PayoutSource;
}): MoneyService {
  const { log, bus } = options;
  const { db, ledger, wallet, earnings } = openMoneyParts({ ...options, onUpdate: (reason, address) => bus.emit('wallet.update', { reason, address }) });
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const tick = reconcileTick(wallet, log);

  return {
    db,
    ledger,
    wallet,
    earnings,
    handlers: moneyHandlers(wallet, earnings),
    tick,
    start() {
      ticking = tick();
      timer = setInterval(() => {
        ticking = tick();
      }, options.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await ticking;
      if (!options.db) db.close();
    },
  };
}

/** One reconciliation (and auto-redeem) pass, as a function that keeps which keystore problem it last logged. */
function reconcileTick(wallet: WalletService, log: Logger): () => Promise<void> {
  let keystoreProblemLogged: string | null = null;

  /** Never throws: it runs from a timer, where an error would end the agent (crash.ts). */
  return async function tick(): Promise<void> {
    try {
      // A damaged keystore is said (once, and in wallet.status) and the agent goes on: restarting would not mend it.
      const problem = wallet.keystoreProblem();
      if (problem) {
        if (problem !== keystoreProblemLogged) log.error('the wallet keystore is unreadable', { detail: problem });
        keystoreProblemLogged = problem;
        return;
      }
      keystoreProblemLogged = null;
      if (!wallet.address()) return;
      await wallet.reconcile();
      await wallet.settlePendingWithdrawals();
      const redeemed = await wallet.autoRedeem();
      if (redeemed && redeemed.length > 0) log.info('auto-redeem', { results: redeemed.map((r) => ({ voucherId: r.voucherId, outcome: r.outcome, paid: r.paid })) });
    } catch (error) {
      log.warn('wallet reconciliation failed', { error: (error as Error).message });
    }
  };
}

function moneyHandlers(wallet: WalletService, earnings: EarningsService): MoneyService['handlers'] {
  return {
    'wallet.status': async () => wallet.status(),
    'wallet.create': async ({ password }) => wallet.create(password),
    'wallet.import': async ({ password, mnemonic, privateKey }) => wallet.import(password, { mnemonic, privateKey }),
    'wallet.unlock': async ({ password }) => wallet.unlock(password),
    'wallet.lock': async () => {
      wallet.lock();
      return { locked: true as const };
    },
    'wallet.export': async ({ password }) => wallet.exportKey(password),
    'wallet.addVoucher': async ({ voucher }) => {
      const stored = await wallet.addVoucher(voucher);
      return { voucherId: stored.id, status: stored.status };
    },
    'wallet.redeem': async ({ voucher, voucherIds }) => {
      if (voucher) return { results: [await wallet.redeemVoucher(voucher)] };
      return { results: await wallet.redeem(voucherIds) };
    },
    'wallet.reconcile': async ({ full }) => wallet.reconcile({ full }),
    'wallet.prepareWithdraw': async ({ to, amount }) => wallet.prepareWithdraw(to, amount),
    'wallet.withdraw': async ({ quoteId }) => wallet.withdraw(quoteId),
    'wallet.settings': async (change) => (Object.keys(change).length > 0 ? wallet.updateSettings(change) : wallet.settingsView()),
    'earnings.summary': async ({ timeZone }) => earnings.summary(timeZone),
    'earnings.series': async (input) => earnings.series(input),
    'earnings.byGpu': async (input) => earnings.byGpu(input),
    'earnings.jobs': async ({ limit, offset }) => earnings.jobs(limit, offset),
    'earnings.exportCsv': async (input) => earnings.exportCsv(input),
  };
}
