/** A change to the wallet's settings (`wallet.settings`): the payout address, a network added (checked on its chain), the network in use, the auto-redeem threshold. */
import { Contract, getAddress } from 'ethers';
import { TOKEN_ABI } from '../chain/abi.js';
import { checkChainId, makeProvider } from '../chain/provider.js';
import { AppError } from '../errors.js';
import { readPayout, setPayout } from './payout.js';
import { DEVNET_NETWORK, networkSchema, type NetworkInput, type WalletSettings, type WalletSettingsView } from './schema.js';
import type { WalletDeps } from './service-deps.js';
import { writeWalletSettings } from './settings.js';

export type WalletSettingsChange = { autoRedeemThreshold?: string | null; network?: string; addNetwork?: NetworkInput; payoutAddress?: string | null };

export async function updateWalletSettings(d: WalletDeps, change: WalletSettingsChange): Promise<WalletSettingsView> {
  if (change.payoutAddress !== undefined) {
    const own = d.address();
    if (change.payoutAddress !== null && own !== null && getAddress(change.payoutAddress) === own) {
      throw new AppError('invalid-input', `${own} is this machine's own wallet: its earnings go there already when no payout address is set. To clear the payout address, give \`none\`.`);
    }
    setPayout(d.payoutSource(), change.payoutAddress);
  }
  const settings = d.settings();
  if (change.addNetwork) await addNetwork(settings, change.addNetwork);
  if (change.network !== undefined) {
    if (change.network !== DEVNET_NETWORK && !settings.networks.some((n) => n.name === change.network)) {
      throw new AppError('invalid-input', `There is no network named "${change.network}". Add it first (RPC URL, chain id, token and escrow addresses).`);
    }
    settings.network = change.network;
  }
  if (change.autoRedeemThreshold !== undefined) settings.autoRedeemThreshold = change.autoRedeemThreshold;
  writeWalletSettings(d.home(), settings);
  d.onUpdate()?.('settings', d.address());
  return { ...settings, payout: readPayout(d.payoutSource()) };
}

/** Adds (or replaces) a network in `settings`, once its chain answers with its id and both contracts are there. */
async function addNetwork(settings: WalletSettings, input: NetworkInput): Promise<void> {
  const net = networkSchema.parse(input);
  if (net.name === DEVNET_NETWORK) throw new AppError('invalid-input', `"${DEVNET_NETWORK}" is the built-in local chain; pick another name.`);
  await checkChainId(net.rpcUrl, net.chainId);
  const provider = makeProvider(net.rpcUrl, net.chainId);
  try {
    if ((await provider.getCode(net.escrow)) === '0x') throw new AppError('invalid-input', `There is no contract at the escrow address ${net.escrow} on chain ${net.chainId}.`);
    if ((await provider.getCode(net.token)) === '0x') throw new AppError('invalid-input', `There is no contract at the token address ${net.token} on chain ${net.chainId}.`);
    const token = new Contract(net.token, TOKEN_ABI, provider);
    net.tokenSymbol = (await token.getFunction('symbol')()) as string;
    net.tokenDecimals = Number(await token.getFunction('decimals')());
  } finally {
    provider.destroy();
  }
  settings.networks = [...settings.networks.filter((n) => n.name !== net.name), { ...net, token: getAddress(net.token), escrow: getAddress(net.escrow) }];
}
