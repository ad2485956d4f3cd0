import type { Migration } from './migration.js';

/**
 * The payout address (issue 17): where a job's money goes when it is not this machine's wallet.
 *
 * - market_jobs.payee: the payout address a job was accepted for; every voucher of the job
 *   must name it (NULL: none set, the voucher pays this wallet).
 * - ledger_vouchers.payee, ledger_refused_vouchers.payee: the voucher's payee (NULL: a v1
 *   voucher, paid to the provider).
 * - ledger_redemptions.payee: where the escrow sent the money (its `PaidTo` event; NULL: to the
 *   provider).
 */
export const payout007: Migration = {
  version: 7,
  name: 'payout',
  sql: `
    ALTER TABLE market_jobs ADD COLUMN payee TEXT;
    ALTER TABLE ledger_vouchers ADD COLUMN payee TEXT;
    ALTER TABLE ledger_refused_vouchers ADD COLUMN payee TEXT;
    ALTER TABLE ledger_redemptions ADD COLUMN payee TEXT;
  `,
};
