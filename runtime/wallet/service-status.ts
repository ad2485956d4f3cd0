/** The wallet's status (`wallet.status`): the keystore, the ledger's totals, the settings, and the balances read from the chain. */
import { Contract, type JsonRpcProvider } from 'ethers';
import { TOKEN_ABI } from '../chain/abi.js';
import { AppError } from '../errors.js';
import { chainError } from './errors.js';
import { keystoreExists, readKeystore } from './keystore.js';
import { readPayout } from './payout.js';
import type { WalletStatus } from './schema.js';
import type { WalletDeps } from './service-deps.js';

export async function walletStatus(d: WalletDeps): Promise<WalletStatus> {
  const home = d.home();
  const exists = keystoreExists(home);
  let address: string | null = null;
  let chainErrorText: string | null = null;
  if (exists) {
    try {
      address = readKeystore(home).address;
    } catch (error) {
      chainErrorText = (error as Error).message;
    }
  }
  const totals = d.ledger().totals();
  const settings = (() => {
    try {
      return d.settings();
    } catch {
      return null;
    }
  })();
  const status: WalletStatus = {
    exists,
    unlocked: d.isUnlocked(),
    address,
    network: null,
    nativeBalance: null,
    tokenBalance: null,
    tokenSymbol: 'OFT',
    tokenDecimals: 18,
    redeemable: totals.redeemable,
    redeemed: totals.redeemed,
    withdrawn: totals.withdrawn,
    autoRedeemThreshold: settings?.autoRedeemThreshold ?? null,
    chainError: chainErrorText,
    identityNote: d.identityNote(),
    payout: readPayout(d.payoutSource()),
  };
  await readBalances(d, status, address);
  return status;
}

/** The network, the token's symbol and decimals and the balances, into `status`; what fails is said in its chainError. */
async function readBalances(d: WalletDeps, status: WalletStatus, address: string | null): Promise<void> {
  let provider: JsonRpcProvider | undefined;
  try {
    const net = d.network();
    status.network = { name: net.name, chainId: net.chainId, rpcUrl: net.rpcUrl, token: net.token, escrow: net.escrow };
    const c = await d.connect();
    provider = c.provider;
    const token = new Contract(net.token, TOKEN_ABI, provider);
    const [symbol, decimals] = await Promise.all([token.getFunction('symbol')() as Promise<string>, token.getFunction('decimals')() as Promise<bigint>]);
    status.tokenSymbol = symbol;
    status.tokenDecimals = Number(decimals);
    if (address) {
      const [native, balance] = await Promise.all([provider.getBalance(address), token.getFunction('balanceOf')(address) as Promise<bigint>]);
      status.nativeBalance = native.toString();
      status.tokenBalance = balance.toString();
    }
  } catch (error) {
    // A damaged keystore is the first thing to mend: its message stays.
    status.chainError ??= (error instanceof AppError ? error : chainError(error, status.network?.rpcUrl ?? '', 'read the balances')).message;
  } finally {
    provider?.destroy();
  }
}
