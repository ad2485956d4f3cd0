/** The market link's wallet, made ready: unlocked from the password file or the demo wallet's own password, or the link says why not. */
import { readSmallFile } from '../storage/small-file.js';
import type { MoneyService } from '../wallet/money.js';
import type { MarketCore } from './service-core.js';
import { setLink } from './service-status.js';

/** The wallet, unlocked: from the password file, the demo wallet's own password, or not yet (false, with the reason set). */
export async function readyWallet(c: MarketCore, money: MoneyService, demo: boolean): Promise<boolean> {
  const o = c.o;
  const wallet = money.wallet;
  const keystoreProblem = wallet.keystoreProblem();
  if (keystoreProblem) {
    setLink(c, 'refused', keystoreProblem);
    return false;
  }
  if (!wallet.address()) {
    if (demo && o.demo) {
      await o.demo.createDemoWallet(money);
    } else {
      setLink(c, 'wallet-locked', 'No wallet yet: create or import one on the Wallet page. The market knows this computer by its wallet address, and pays into it.');
      return false;
    }
  }
  if (!wallet.isUnlocked() && !(await unlock(c, money))) return false;
  if (demo && o.demo) await o.demo.fund(wallet.address()!).catch((error: unknown) => o.log.warn('funding the wallet with test ether failed', { error: (error as Error).message }));
  return true;
}

async function unlock(c: MarketCore, money: MoneyService): Promise<boolean> {
  const o = c.o;
  const wallet = money.wallet;
  const candidates: string[] = [];
  if (o.passwordFile) {
    try {
      candidates.push(readSmallFile(o.passwordFile, 64 * 1024).replace(/\r?\n$/, ''));
    } catch (error) {
      o.log.warn('cannot read the wallet password file', { file: o.passwordFile, reason: (error as Error).message });
    }
  }
  const demoPassword = o.demoPassword?.() ?? null;
  if (demoPassword) candidates.push(demoPassword);
  for (const password of candidates) {
    try {
      await wallet.unlock(password);
      return true;
    } catch {}
  }
  setLink(c, 'wallet-locked', o.passwordFile ? `The password in ${o.passwordFile} does not unlock the wallet. Unlock it on the Wallet page.` : 'The wallet is locked: unlock it on the Wallet page to sign in to the market and be paid.');
  return false;
}
