/** `offshift wallet …`: create, import, status, redeem, withdraw, reconcile, settings. */
import { formatUnits, getAddress } from 'ethers';
import { AppError } from '../../errors.js';
import { formatTokens } from '../../ledger/tokens.js';
import type { PayoutView } from '../../wallet/payout-schema.js';
import { DEVNET_NETWORK } from '../../wallet/schema.js';
import { readVoucherFile } from '../../wallet/voucher.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { parseTokenAmount, printJson, promptLine, readPassword, readSecret, withMoney } from './wallet-common.js';

const common = '[--json] [--password-file FILE]';

export const walletCreateCommand: CliCommand = {
  name: 'wallet create',
  summary: 'Create a new wallet (its recovery phrase is shown once).',
  usage: `wallet create ${common}`,
  async run(args, io) {
    const json = args.flags.has('json');
    const password = await readPassword(args, true);
    return withMoney(io, async ({ wallet }) => {
      const { address, mnemonic } = await wallet.create(password);
      if (json) {
        printJson(io, { address, mnemonic });
        return 0;
      }
      io.stdout(`Wallet created: ${address}\n\nRecovery phrase (shown this once; write it down and keep it offline):\n\n  ${mnemonic}\n\n`);
      if (process.stdin.isTTY) {
        const words = mnemonic.split(' ');
        const index = Math.floor(Math.random() * words.length);
        const answer = await promptLine(`To confirm you wrote it down, type word #${index + 1}: `);
        if (answer.trim().toLowerCase() !== words[index]) {
          io.stderr('That is not the word. The wallet exists; `offshift wallet export` (with the password) shows the phrase again.\n');
          return 1;
        }
        io.stdout('Confirmed.\n');
      }
      return 0;
    });
  },
};

export const walletImportCommand: CliCommand = {
  name: 'wallet import',
  summary: 'Import a wallet from a recovery phrase or a private key (read from a file, never the command line).',
  usage: `wallet import (--mnemonic-file FILE | --private-key-file FILE) ${common}`,
  async run(args, io) {
    const mnemonic = readSecret(args, 'mnemonic-file', 'recovery phrase');
    const privateKey = readSecret(args, 'private-key-file', 'private key');
    if ((mnemonic === undefined) === (privateKey === undefined)) throw new AppError('usage', 'Give exactly one of --mnemonic-file FILE or --private-key-file FILE.');
    const password = await readPassword(args, true);
    return withMoney(io, async ({ wallet }) => {
      const { address } = await wallet.import(password, mnemonic !== undefined ? { mnemonic } : { privateKey });
      if (args.flags.has('json')) printJson(io, { address });
      else io.stdout(`Wallet imported: ${address}\n`);
      return 0;
    });
  },
};

export const walletStatusCommand: CliCommand = {
  name: 'wallet status',
  summary: 'Address, balances, and what is redeemable, redeemed and withdrawn.',
  usage: 'wallet status [--json]',
  async run(args, io) {
    return withMoney(io, async ({ wallet }) => {
      const s = await wallet.status();
      if (args.flags.has('json')) {
        printJson(io, s);
        return 0;
      }
      if (s.identityNote) io.stdout(`${s.identityNote}\n`);
      if (!s.exists) {
        io.stdout('No wallet yet: `offshift wallet create` or `offshift wallet import`.\n');
        return 0;
      }
      const t = (v: string | null) => (v === null ? 'unknown' : `${formatTokens(BigInt(v), s.tokenDecimals)} ${s.tokenSymbol}`);
      io.stdout(
        [
          `Address:     ${s.address ?? 'unknown: the keystore cannot be read (below: why, and what to do)'}`,
          `Network:     ${s.network ? `${s.network.name} (chain ${s.network.chainId}, ${s.network.rpcUrl})` : 'none'}`,
          `Gas balance: ${s.nativeBalance === null ? 'unknown' : formatUnits(BigInt(s.nativeBalance), 18)}`,
          `Tokens:      ${t(s.tokenBalance)}`,
          `Redeemable:  ${t(s.redeemable)}`,
          `Redeemed:    ${t(s.redeemed)}`,
          `Withdrawn:   ${t(s.withdrawn)}`,
          ...(s.payout ? [`Payout:      ${describePayout(s.payout, s.address)}`] : []),
          ...(s.chainError ? [`Chain:       ${s.chainError}`] : []),
        ].join('\n') + '\n',
      );
      return 0;
    });
  },
};

export const walletRedeemCommand: CliCommand = {
  name: 'wallet redeem',
  summary: 'Redeem a voucher file (stored first, then sent), or every stored redeemable voucher with --all.',
  usage: `wallet redeem (--voucher FILE | --all) ${common}`,
  booleanFlags: ['all'],
  async run(args, io) {
    const file = option(args, 'voucher');
    const all = args.flags.has('all');
    if (!file && !all) throw new AppError('usage', 'Give --voucher FILE (a voucher file) or --all.');
    const signed = file ? readVoucherFile(file) : undefined;
    const password = await readPassword(args);
    return withMoney(io, async ({ wallet }) => {
      if (signed) {
        // Stored before anything else can fail, so the voucher is never lost.
        await wallet.addVoucher(signed);
        await wallet.unlock(password);
        const r = await wallet.redeemVoucher(signed);
        if (args.flags.has('json')) printJson(io, { txHash: r.txHash, paid: r.paid });
        else io.stdout(`Redeemed: ${formatTokens(BigInt(r.paid), wallet.tokenMeta().decimals)} ${wallet.tokenMeta().symbol} paid (transaction ${r.txHash}).\n`);
        return 0;
      }
      await wallet.unlock(password);
      const results = await wallet.redeem();
      if (args.flags.has('json')) printJson(io, { results });
      else if (results.length === 0) io.stdout('Nothing to redeem.\n');
      else for (const r of results) io.stdout(`voucher ${r.voucherId}: ${r.outcome}${r.txHash ? ` ${r.txHash}` : ''}${r.error ? ` (${r.error})` : ''}\n`);
      return results.some((r) => r.outcome === 'failed') ? 1 : 0;
    });
  },
};

export const walletWithdrawCommand: CliCommand = {
  name: 'wallet withdraw',
  summary: 'Send tokens to an address (the fee is shown before anything is sent).',
  usage: `wallet withdraw --to ADDRESS --amount TOKENS [--yes] ${common}\n\nWithout --yes, asks for confirmation on a terminal and refuses otherwise.`,
  booleanFlags: ['yes'],
  async run(args, io) {
    const to = option(args, 'to');
    const amountText = option(args, 'amount');
    if (!to || !amountText) throw new AppError('usage', 'Give --to ADDRESS and --amount TOKENS.');
    const json = args.flags.has('json');
    return withMoney(io, async ({ wallet }) => {
      const { decimals, symbol } = wallet.tokenMeta();
      const amount = parseTokenAmount(amountText, decimals, '--amount');
      const quote = await wallet.prepareWithdraw(to, amount.toString());
      const feeLine = `Send ${formatTokens(amount, decimals)} ${symbol} to ${quote.to}; network fee at most ${formatUnits(BigInt(quote.maxFee), 18)} (gas ${quote.gasLimit} × ${formatUnits(BigInt(quote.maxFeePerGas), 'gwei')} gwei).`;
      if (!json) io.stdout(feeLine + '\n');
      if (!args.flags.has('yes')) {
        if (!process.stdin.isTTY) throw new AppError('usage', `${feeLine} Re-run with --yes to confirm.`);
        const answer = await promptLine('Send it? [y/N] ');
        if (!/^y(es)?$/i.test(answer.trim())) {
          io.stdout('Nothing sent.\n');
          return 1;
        }
      }
      await wallet.unlock(await readPassword(args));
      const sent = await wallet.withdraw(quote.quoteId);
      if (json) printJson(io, { ...sent, maxFee: quote.maxFee, gasLimit: quote.gasLimit });
      else io.stdout(`Sent in block ${sent.blockNumber}: transaction ${sent.txHash}\n`);
      return 0;
    });
  },
};

export const walletReconcileCommand: CliCommand = {
  name: 'wallet reconcile',
  summary: "Bring the ledger up to date with the escrow's payments on chain (--full: from the start).",
  usage: 'wallet reconcile [--full] [--json]',
  booleanFlags: ['full'],
  async run(args, io) {
    return withMoney(io, async ({ wallet }) => {
      const r = await wallet.reconcile({ full: args.flags.has('full') });
      if (args.flags.has('json')) printJson(io, r);
      else io.stdout(`Reconciled up to block ${r.toBlock}: ${r.added} payment(s) added.\n`);
      return 0;
    });
  },
};

export const walletSettingsCommand: CliCommand = {
  name: 'wallet settings',
  summary: 'Show or change the network, the auto-redeem threshold and the payout address; add a network.',
  usage:
    'wallet settings [--network NAME] [--auto-redeem TOKENS|off] [--payout-address ADDRESS|none] [--add-network NAME --rpc URL --chain-id N --token ADDRESS --escrow ADDRESS [--from-block N]] [--json]\n\n' +
    `The built-in network "${DEVNET_NETWORK}" is the local chain of \`offshift devnet up\`.\n` +
    '--payout-address: where earnings go (a team wallet, a hardware wallet, a multisig). This machine still signs in and signs its reports with its own key, but every voucher must pay the payout address, and the escrow pays it whoever redeems: the machine cannot spend what it earned. `none` sends earnings to this machine\'s wallet again. An administrator may set it for the whole room (then it cannot be changed here).',
  async run(args, io) {
    return withMoney(io, async ({ wallet }) => {
      const change: Parameters<typeof wallet.updateSettings>[0] = {};
      const addName = option(args, 'add-network');
      if (addName) {
        const rpcUrl = option(args, 'rpc');
        const chainId = numberOption(args, 'chain-id');
        const token = option(args, 'token');
        const escrow = option(args, 'escrow');
        if (!rpcUrl || chainId === undefined || !token || !escrow) throw new AppError('usage', '--add-network needs --rpc URL --chain-id N --token ADDRESS --escrow ADDRESS.');
        change.addNetwork = { name: addName, rpcUrl, chainId, token, escrow, fromBlock: numberOption(args, 'from-block') ?? 0 };
      }
      const network = option(args, 'network');
      if (network) change.network = network;
      const auto = option(args, 'auto-redeem');
      if (auto !== undefined) change.autoRedeemThreshold = auto === 'off' ? null : parseTokenAmount(auto, wallet.tokenMeta().decimals, '--auto-redeem').toString();
      const payout = option(args, 'payout-address');
      if (payout !== undefined) change.payoutAddress = parsePayoutAddress(payout);
      const settings = Object.keys(change).length > 0 ? await wallet.updateSettings(change) : wallet.settingsView();
      if (args.flags.has('json')) printJson(io, settings);
      else
        io.stdout(
          `Network: ${settings.network}\nNetworks added: ${settings.networks.map((n) => `${n.name} (chain ${n.chainId})`).join(', ') || 'none'}\nAuto-redeem: ${settings.autoRedeemThreshold === null ? 'off' : `at ${formatTokens(BigInt(settings.autoRedeemThreshold), wallet.tokenMeta().decimals)} ${wallet.tokenMeta().symbol}`}\n` +
            `Payout address: ${describePayout(settings.payout, wallet.address())}\n`,
        );
      return 0;
    });
  },
};

/** `--payout-address`: an address, or `none` to clear it. */
function parsePayoutAddress(raw: string): string | null {
  if (raw === 'none') return null;
  if (!/^0x[0-9a-fA-F]{40}$/.test(raw)) throw new AppError('usage', `--payout-address takes an Ethereum address (0x and 40 hex digits) or \`none\`; "${raw}" is neither.`);
  try {
    return getAddress(raw);
  } catch {
    throw new AppError('usage', `--payout-address ${raw} has a wrong checksum (mixed case that does not match): check the address, or write it all in lower case.`);
  }
}

function describePayout(p: PayoutView, own: string | null): string {
  if (p.problem && p.address === null) return `cannot be read (${p.problem}); no work is taken until it is fixed`;
  const where = p.address === null ? `none: earnings go to this machine's wallet${own ? ` (${own})` : ''}` : `${p.address} (every voucher must pay it; this machine cannot spend it)`;
  return p.locked ? `${where}, set by your administrator` : where;
}

export const walletCommands: CliCommand[] = [walletCreateCommand, walletImportCommand, walletStatusCommand, walletRedeemCommand, walletWithdrawCommand, walletReconcileCommand, walletSettingsCommand];
