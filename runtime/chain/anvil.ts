/**
 * anvil (npm @foundry-rs/anvil-<platform>-<arch>, an optional dependency: the registry reached here serves only linux-amd64, so the project depends on that package directly rather than on the @foundry-rs/anvil wrapper whose other platform packages npm ci cannot resolve): finds the platform binary, starts it on a port, waits until
 * its JSON-RPC answers, and stops it. Used by `offshift devnet` (detached, outliving the CLI)
 * and by the tests (attached, stopped at the end).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { AppError } from '../errors.js';

const require = createRequire(import.meta.url);

/** anvil's first well-known dev accounts (mnemonic "test test … junk"): public knowledge, never real money. */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
] as const;
export const DEFAULT_CHAIN_ID = 31337;

export function anvilBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OFFSHIFT_ANVIL_BIN) return env.OFFSHIFT_ANVIL_BIN;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new AppError('anvil-missing', `anvil is not installed for ${process.platform}-${process.arch} (npm package ${pkg}). Reinstall Offshift's dependencies, or set OFFSHIFT_ANVIL_BIN to an anvil binary.`);
  }
  const bin = path.join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!fs.existsSync(bin)) throw new AppError('anvil-missing', `The anvil binary is missing at ${bin}.`);
  return bin;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function rpcCall(url: string, method: string, params: unknown[] = [], timeoutMs = 2000): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

export async function waitForRpc(url: string, timeoutMs = 20_000, isAlive: () => boolean = () => true): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) break;
    try {
      return Number(await rpcCall(url, 'eth_chainId'));
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new AppError('anvil-start', `anvil did not answer at ${url}${last ? ` (${(last as Error).message})` : ''}.`);
}

export interface AnvilOptions {
  port?: number;
  chainId?: number;
  /** Keep the chain across restarts (anvil --state). */
  stateFile?: string;
  /** Outlive this process (devnet); output goes to logFile. */
  detached?: boolean;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface AnvilProcess {
  rpcUrl: string;
  port: number;
  chainId: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Whether nothing listens on 127.0.0.1:port (another chain may: then its RPC must not be taken for ours). */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  const port = options.port ?? (await freePort());
  if (options.port !== undefined && !(await portFree(port))) {
    throw new AppError('anvil-start', `Cannot start the local chain: port ${port} is already in use by another program.`);
  }
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--accounts', '3', '--silent'];
  if (options.stateFile) args.push('--state', options.stateFile);
  let stdio: ('ignore' | number)[] = ['ignore', 'ignore', 'ignore'];
  let logFd: number | undefined;
  if (options.logFile) {
    logFd = fs.openSync(options.logFile, 'a', 0o600);
    stdio = ['ignore', logFd, logFd];
  }
  const child = spawn(anvilBinary(options.env), args, { detached: options.detached ?? false, stdio });
  if (logFd !== undefined) fs.closeSync(logFd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new AppError('anvil-start', `Cannot start anvil: ${e.message}`))));
  const rpcUrl = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitForRpc(rpcUrl, 20_000, () => !exited), spawnError]);
  } catch (error) {
    child.kill('SIGKILL');
    if (exited) throw new AppError('anvil-start', `anvil exited at start (is port ${port} in use?).${options.logFile ? ` See ${options.logFile}.` : ''}`);
    throw error;
  }
  if (options.detached) child.unref();
  return {
    rpcUrl,
    port,
    chainId,
    pid: child.pid ?? -1,
    child,
    async stop() {
      if (exited) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
