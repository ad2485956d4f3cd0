/**
 * The body of `offshift demo serve`, the demo network's one process: the reference market on a
 * free port of 127.0.0.1 (its jobs kept in demo/market.db), and a demo buyer that keeps one demo
 * render job in flight, pays each usage report with a voucher from its escrow deposit (topped up
 * from the local chain when it runs low), and pauses between jobs. It writes demo/demo.json so
 * the agent and `offshift demo status` find it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Contract, Wallet } from 'ethers';
import { AppError } from '../api/errors.js';
import { ANVIL_KEYS } from '../chain/anvil.js';
import { ESCROW_ABI } from '../chain/abi.js';
import { readDevnet } from '../chain/devnet.js';
import { depositToEscrow, mintTokens, tokens } from '../chain/deploy.js';
import { makeProvider } from '../chain/provider.js';
import type { Logger } from '../log.js';
import { connectDocker } from '../sandbox/docker.js';
import { DEMO_DIR } from './paths.js';
import { readDemoState, writeDemoState } from './network.js';

/** The pause between one demo job's end and the next submit. */
export const DEMO_PAUSE_MS = 20_000;
const LOW_DEPOSIT = tokens('50');

export async function serveDemo(home: string, env: NodeJS.ProcessEnv, log: Logger, signal: AbortSignal, options: { inProcess?: boolean } = {}): Promise<void> {
  const chain = readDevnet(home);
  if (!chain) throw new AppError('devnet-down', 'The local chain is not set up: run `offshift demo up` (it starts the chain first).');
  const { ensureDemoImage, demoJobRequest } = await import('./image.js');
  const { startMarket } = await import('../../market/server.js');
  const { BuyerClient } = await import('../../market/buyer-client.js');
  const state = { pid: process.pid as number | null, url: null as string | null, buyer: chain.buyer.address, imageId: null as string | null, startedAt: Date.now(), jobsSubmitted: readDemoState(home)?.jobsSubmitted ?? 0, problem: null as string | null, inProcess: options.inProcess ?? false };
  const save = () => writeDemoState(home, state);

  const imageId = (await ensureDemoImage(connectDocker(env), { log })).imageId;
  state.imageId = imageId;
  const market = await startMarket({ port: 0, dbFile: path.join(home, DEMO_DIR, 'market.db'), chainId: chain.chainId, escrow: chain.escrow, log });
  state.url = market.url;
  save();
  log.info('demo market listening', { url: market.url });

  const outputs = path.join(home, DEMO_DIR, 'buyer-outputs');
  const buyer = new Wallet(chain.buyer.privateKey);
  let client: Awaited<ReturnType<typeof BuyerClient.connect>> | null = null;
  try {
    while (!signal.aborted) {
      try {
        await topUpDeposit(home, buyer.address);
        client ??= await BuyerClient.connect({ market: market.url, signer: buyer, agent: 'offshift-demo-buyer', expectChainId: chain.chainId, expectEscrow: chain.escrow });
        const n = state.jobsSubmitted + 1;
        const dir = path.join(outputs, String(n % 5));
        fs.rmSync(dir, { recursive: true, force: true });
        // One attempt: the demo network has one provider, and a preempted job is never placed on the same provider again.
        const handle = await client.submit(demoJobRequest(imageId, n), { outputDir: dir, maxAttempts: 1 });
        state.jobsSubmitted = n;
        state.problem = null;
        save();
        const onAbort = () => handle.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
        const result = await handle.result;
        signal.removeEventListener('abort', onAbort);
        log.info('demo job ended', { jobId: result.jobId, state: result.state, paid: result.paid, provider: result.provider });
      } catch (error) {
        state.problem = (error as Error).message;
        save();
        log.warn('demo buyer problem', { error: state.problem });
        client?.close();
        client = null;
      }
      await new Promise((r) => {
        const t = setTimeout(r, DEMO_PAUSE_MS);
        signal.addEventListener('abort', () => (clearTimeout(t), r(undefined)), { once: true });
      });
    }
  } finally {
    client?.close();
    await market.close();
    state.url = null;
    state.pid = null;
    save();
  }
}

/** The demo buyer's escrow deposit, topped up from the local chain when it runs low. */
async function topUpDeposit(home: string, buyerAddress: string): Promise<void> {
  const chain = readDevnet(home)!;
  const provider = makeProvider(chain.rpcUrl, chain.chainId);
  try {
    const deposit = (await new Contract(chain.escrow, ESCROW_ABI, provider).getFunction('deposits')(buyerAddress)) as bigint;
    if (deposit >= LOW_DEPOSIT) return;
    const deployer = new Wallet(ANVIL_KEYS[0], provider);
    await mintTokens(deployer, chain.token, buyerAddress, tokens('1000'));
    await depositToEscrow(new Wallet(chain.buyer.privateKey, provider), chain.token, chain.escrow, tokens('1000'));
  } finally {
    provider.destroy();
  }
}
