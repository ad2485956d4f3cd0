/**
 * The local chain (`offshift devnet …`): anvil started detached, the token and the escrow
 * deployed, a demo buyer funded with tokens and a 1000-token escrow deposit. What it needs to be
 * found again (pid, RPC, addresses) is saved in the data folder (devnet.json); the chain itself
 * is kept across `down`/`up` in devnet/anvil-state.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getAddress, Wallet } from 'ethers';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { withMachineLock } from '../storage/machine-lock.js';
import { toJobId } from '../chain/job-id.js';
import { localChainFile, localChainSchema, readLocalChainFile } from '../chain/local-chain.js';
import { signVoucher } from '../wallet/voucher.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { ANVIL_KEYS, DEFAULT_CHAIN_ID, freePort, portFree, startAnvil } from '../chain/anvil.js';
import { loadArtifacts } from '../chain/compile.js';
import { deployContracts, depositToEscrow, mintTokens, sendEth, tokens, eth } from '../chain/deploy.js';
import { fetchChainId, makeProvider } from '../chain/provider.js';

export const DEFAULT_DEVNET_PORT = 8545;
export const DEMO_DEPOSIT_TOKENS = '1000';

const devnetSchema = localChainSchema.extend({
  port: z.number().int(),
  pid: z.number().int().nullable(),
  buyer: z.object({ address: z.string(), privateKey: z.string() }),
});
export type DevnetInfo = z.infer<typeof devnetSchema>;

export function readDevnet(home: string): DevnetInfo | null {
  return readLocalChainFile(home, devnetSchema);
}

/** Whether a process (the chain, the demo market) is still there. */
export function isAlive(pid: number | null): boolean {
  if (pid === null || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function hasCode(rpcUrl: string, chainId: number, address: string): Promise<boolean> {
  const provider = makeProvider(rpcUrl, chainId);
  try {
    return (await provider.getCode(address)) !== '0x';
  } finally {
    provider.destroy();
  }
}

/** The public output of `devnet up`. */
export function publicInfo(info: DevnetInfo) {
  return { rpcUrl: info.rpcUrl, chainId: info.chainId, token: info.token, escrow: info.escrow, buyer: info.buyer };
}

export async function devnetUp(home: string, options: { port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DevnetInfo & { started: boolean }> {
  const existing = readDevnet(home);
  if (existing && isAlive(existing.pid)) {
    try {
      if ((await fetchChainId(existing.rpcUrl, 2000)) === existing.chainId) return { ...existing, started: false };
    } catch {}
  }
  const dir = path.join(home, 'devnet');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The usual port, unless something else holds it (another chain, another data folder's devnet):
  // then a free one, remembered in devnet.json. An explicit --port is never changed.
  // Chosen and bound under a machine-wide lock: two agents starting at once would both find it free.
  const anvil = await withMachineLock('devnet-port', async () => {
    let port = options.port ?? existing?.port ?? DEFAULT_DEVNET_PORT;
    if (options.port === undefined && !(await portFree(port))) port = await freePort();
    return startAnvil({ port, chainId: DEFAULT_CHAIN_ID, detached: true, stateFile: path.join(dir, 'anvil-state.json'), logFile: path.join(dir, 'anvil.log'), env: options.env });
  });
  const buyer = new Wallet(ANVIL_KEYS[1]);
  try {
    let info: DevnetInfo;
    if (existing && (await hasCode(anvil.rpcUrl, anvil.chainId, existing.escrow)) && (await hasCode(anvil.rpcUrl, anvil.chainId, existing.token))) {
      info = { ...existing, rpcUrl: anvil.rpcUrl, port: anvil.port, pid: anvil.pid };
    } else {
      const provider = makeProvider(anvil.rpcUrl, anvil.chainId);
      try {
        const deployer = new Wallet(ANVIL_KEYS[0], provider);
        const fromBlock = await provider.getBlockNumber();
        const d = await deployContracts(deployer, loadArtifacts());
        await mintTokens(deployer, d.token, buyer.address, tokens(1_000_000));
        await depositToEscrow(buyer.connect(provider), d.token, d.escrow, tokens(DEMO_DEPOSIT_TOKENS));
        info = { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, port: anvil.port, pid: anvil.pid, token: d.token, escrow: d.escrow, fromBlock, buyer: { address: buyer.address, privateKey: buyer.privateKey } };
      } finally {
        provider.destroy();
      }
    }
    writeFileAtomic(localChainFile(home), JSON.stringify(info, null, 2) + '\n', 0o600);
    return { ...info, started: true };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

export async function devnetDown(home: string): Promise<boolean> {
  const info = readDevnet(home);
  if (!info || !isAlive(info.pid)) return false;
  process.kill(info.pid!, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(info.pid)) process.kill(info.pid!, 'SIGKILL');
  writeFileAtomic(localChainFile(home), JSON.stringify({ ...info, pid: null }, null, 2) + '\n', 0o600);
  return true;
}

export function requireRunningDevnet(home: string): DevnetInfo {
  const info = readDevnet(home);
  if (!info || !isAlive(info.pid)) throw new AppError('devnet-down', 'The local chain is not running. Start it with `offshift devnet up`.');
  return info;
}

export async function devnetFund(home: string, address: string, amounts: { eth?: string; tokens?: string }): Promise<void> {
  const info = requireRunningDevnet(home);
  const provider = makeProvider(info.rpcUrl, info.chainId);
  try {
    const deployer = new Wallet(ANVIL_KEYS[0], provider);
    const to = getAddress(address);
    if (amounts.eth !== undefined && amounts.eth !== '0') await sendEth(deployer, to, eth(amounts.eth));
    if (amounts.tokens !== undefined && amounts.tokens !== '0') await mintTokens(deployer, info.token, to, tokens(amounts.tokens));
  } finally {
    provider.destroy();
  }
}

/** A voucher signed by the demo buyer: for demos and tests. */
export async function devnetVoucher(home: string, v: { provider: string; payee?: string; job: string; cumulativeAmount: bigint; expiry?: number }): Promise<SignedVoucher> {
  const info = readDevnet(home);
  if (!info) throw new AppError('devnet-down', 'There is no local chain yet. Start it with `offshift devnet up`.');
  const buyer = new Wallet(info.buyer.privateKey);
  return signVoucher(buyer, info.chainId, info.escrow, {
    buyer: buyer.address,
    provider: getAddress(v.provider),
    ...(v.payee ? { payee: getAddress(v.payee.toLowerCase()) } : {}),
    jobId: toJobId(v.job),
    cumulativeAmount: v.cumulativeAmount.toString(),
    expiry: v.expiry ?? Math.floor(Date.now() / 1000) + 30 * 86_400,
  });
}
