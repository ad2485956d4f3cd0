/**
 * The demo wallet: created for an owner who has none when the demo network starts, so the loop
 * can be seen at once. Its password is random and kept in the data folder (demo/wallet-password,
 * 0600) so the agent can unlock it by itself: it is for test tokens only, and the Wallet page
 * says so. Funded with test ether for gas, and set to redeem as soon as 0.05 token is redeemable.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { devnetFund, readDevnet } from './devnet.js';
import { makeProvider } from '../chain/provider.js';
import type { MoneyService } from '../wallet/money.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { DEMO_DIR, demoPasswordFile } from './paths.js';


export const DEMO_AUTO_REDEEM = 5n * 10n ** 16n;

export async function createDemoWallet(home: string, money: MoneyService): Promise<string> {
  // Never into a data folder deleted under the agent (it stops): that would bring it back.
  if (!fs.existsSync(home)) throw new AppError('data-folder-gone', `The data folder ${home} is gone: no demo wallet is made.`);
  const password = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(path.join(home, DEMO_DIR), { recursive: true, mode: 0o700 });
  writeFileAtomic(demoPasswordFile(home), password + '\n', 0o600);
  const { address } = await money.wallet.create(password);
  // About ten seconds of a demo job: redeemed during the first job, then roughly once a job.
  await money.wallet.updateSettings({ autoRedeemThreshold: DEMO_AUTO_REDEEM.toString() });
  return address;
}

/** Test ether for gas (redeeming vouchers costs a transaction), when the wallet has less than 1. */
export async function fundForGas(home: string, address: string): Promise<void> {
  const info = readDevnet(home);
  if (!info) return;
  const provider = makeProvider(info.rpcUrl, info.chainId);
  try {
    if ((await provider.getBalance(address)) >= 10n ** 18n) return;
  } finally {
    provider.destroy();
  }
  await devnetFund(home, address, { eth: '10' });
}
