/** What the wallet, devnet and earnings commands share: the services over the data folder, passwords, token amounts. */
import readline from 'node:readline';
import { parseUnits } from 'ethers';
import { AppError } from '../../errors.js';
import type { MoneyParts } from '../../wallet/money.js';
import { readSmallFile } from '../../storage/small-file.js';
import { withLocalServices } from '../agent-or-local.js';
import { option, type ParsedArgs } from '../args.js';
import type { CliIO } from '../command.js';
import { cliLogger } from '../logger.js';

/** A password, a recovery phrase or a key fits in far less. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** The wallet, ledger and earnings over the data folder (the same code as the agent's), closed when `fn` ends. */
export function withMoney<T>(io: CliIO, fn: (money: MoneyParts) => Promise<T>): Promise<T> {
  return withLocalServices(io, (local) => fn(local.money()), cliLogger(io, 'warn'));
}

function readSecretFile(file: string, what: string): string {
  try {
    return readSmallFile(file, MAX_SECRET_FILE_BYTES).replace(/\r?\n$/, '');
  } catch (error) {
    throw new AppError('usage', `Cannot read the ${what} file ${file}: ${(error as Error).message}.`);
  }
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) return reject(new AppError('usage', 'No terminal to ask for the password: give --password-file FILE.'));
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          cleanup();
          process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') {
          cleanup();
          return reject(new AppError('usage', 'Cancelled.'));
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const cleanup = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

export async function promptLine(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new AppError('usage', 'No terminal to answer on.');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** --password-file FILE (first line), else a hidden prompt on a terminal. */
export async function readPassword(args: ParsedArgs, confirm = false): Promise<string> {
  const file = option(args, 'password-file');
  if (file) return readSecretFile(file, 'password');
  const first = await promptHidden('Wallet password: ');
  if (confirm && (await promptHidden('Again: ')) !== first) throw new AppError('usage', 'The two passwords differ.');
  return first;
}

export function readSecret(args: ParsedArgs, name: string, what: string): string | undefined {
  const file = option(args, name);
  return file === undefined ? undefined : readSecretFile(file, what);
}

/** "12.5" tokens → base units, exactly. */
export function parseTokenAmount(text: string, decimals: number, flag: string): bigint {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new AppError('usage', `${flag} takes an amount of tokens such as 12.5, not "${text}".`);
  try {
    return parseUnits(text.trim(), decimals);
  } catch {
    throw new AppError('usage', `${flag}: "${text}" has more than ${decimals} decimals.`);
  }
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}
