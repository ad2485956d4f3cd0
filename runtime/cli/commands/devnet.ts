/** `offshift devnet …`: the local chain for development, tests and the demo. */
import fs from 'node:fs';
import { AppError } from '../../errors.js';
import { devnetDown, devnetFund, devnetUp, devnetVoucher, publicInfo, readDevnet } from '../../demo/devnet.js';
import { TOKEN_DECIMALS } from '../../chain/deploy.js';
import { resolveHome } from '../../storage/home.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { parseTokenAmount, printJson } from './wallet-common.js';

export const devnetUpCommand: CliCommand = {
  name: 'devnet up',
  summary: 'Start the local chain (anvil), deploy the token and the escrow, fund a demo buyer.',
  usage: 'devnet up [--port N] [--json]   (default port 8545)',
  async run(args, io) {
    const port = numberOption(args, 'port');
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new AppError('usage', '--port must be a port number (1-65535).');
    const info = await devnetUp(resolveHome(io.env), { port, env: io.env });
    if (args.flags.has('json')) printJson(io, publicInfo(info));
    else
      io.stdout(
        `Local chain ${info.started ? 'started' : 'already running'}: ${info.rpcUrl} (chain ${info.chainId}, anvil pid ${info.pid})\nToken:  ${info.token}\nEscrow: ${info.escrow}\nDemo buyer: ${info.buyer.address} (1000 tokens deposited in escrow)\n`,
      );
    return 0;
  },
};

export const devnetDownCommand: CliCommand = {
  name: 'devnet down',
  summary: 'Stop the local chain (its state is kept for the next `devnet up`).',
  usage: 'devnet down [--json]',
  async run(args, io) {
    const stopped = await devnetDown(resolveHome(io.env));
    if (args.flags.has('json')) printJson(io, { stopped });
    else io.stdout(stopped ? 'Local chain stopped.\n' : 'The local chain was not running.\n');
    return 0;
  },
};

export const devnetFundCommand: CliCommand = {
  name: 'devnet fund',
  summary: 'Send gas money and test tokens to an address on the local chain.',
  usage: 'devnet fund ADDRESS [--eth N] [--tokens N] [--json]   (default: 10 ETH, no tokens)',
  async run(args, io) {
    const address = args.positionals[0];
    if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address)) throw new AppError('usage', 'Give the ADDRESS to fund (0x and 40 hex digits).');
    const ethAmount = option(args, 'eth') ?? '10';
    const tokenAmount = option(args, 'tokens');
    parseTokenAmount(ethAmount, 18, '--eth');
    if (tokenAmount !== undefined) parseTokenAmount(tokenAmount, TOKEN_DECIMALS, '--tokens');
    await devnetFund(resolveHome(io.env), address, { eth: ethAmount, tokens: tokenAmount });
    if (args.flags.has('json')) printJson(io, { address, eth: ethAmount, tokens: tokenAmount ?? '0' });
    else io.stdout(`Sent ${ethAmount} ETH${tokenAmount ? ` and ${tokenAmount} tokens` : ''} to ${address}.\n`);
    return 0;
  },
};

export const devnetVoucherCommand: CliCommand = {
  name: 'devnet voucher',
  summary: "Write a voucher signed by the local chain's demo buyer (for demos and tests).",
  usage: 'devnet voucher --provider ADDRESS --job JOB --amount TOKENS [--payee ADDRESS] [--expires-in SECONDS] [--out FILE] [--json]\n\nJOB is a bytes32 hex id, or any text (hashed). --amount is cumulative for the job. --payee: the payout address the voucher pays (else the provider). Prints the voucher without --out.',
  async run(args, io) {
    const provider = option(args, 'provider');
    const job = option(args, 'job');
    const amount = option(args, 'amount');
    if (!provider || !job || !amount) throw new AppError('usage', 'Give --provider ADDRESS --job JOB --amount TOKENS.');
    if (!/^0x[0-9a-fA-F]{40}$/.test(provider)) throw new AppError('usage', '--provider must be an address (0x and 40 hex digits).');
    const payee = option(args, 'payee');
    if (payee !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(payee)) throw new AppError('usage', '--payee must be an address (0x and 40 hex digits).');
    const home = resolveHome(io.env);
    if (!readDevnet(home)) throw new AppError('devnet-down', 'There is no local chain yet. Start it with `offshift devnet up`.');
    const expiresIn = numberOption(args, 'expires-in') ?? 30 * 86_400;
    const signed = await devnetVoucher(home, { provider, payee, job, cumulativeAmount: parseTokenAmount(amount, TOKEN_DECIMALS, '--amount'), expiry: Math.floor(Date.now() / 1000) + Math.floor(expiresIn) });
    const out = option(args, 'out');
    const text = JSON.stringify(signed, null, 2) + '\n';
    if (out) {
      writeFileAtomic(out, text, 0o644);
      if (!fs.existsSync(out)) throw new AppError('internal', `Could not write ${out}.`);
      io.stdout(args.flags.has('json') ? JSON.stringify({ out, jobId: signed.voucher.jobId }) + '\n' : `Voucher written to ${out} (job ${signed.voucher.jobId}).\n`);
    } else io.stdout(text);
    return 0;
  },
};

export const devnetCommands: CliCommand[] = [devnetUpCommand, devnetDownCommand, devnetFundCommand, devnetVoucherCommand];
