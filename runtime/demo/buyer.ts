/**
 * The demo buyer: keeps one demo render job in flight on the demo market, pays each usage report
 * with a voucher from its escrow deposit (topped up from the local chain when it runs low), and
 * pauses between jobs. Every step has a time limit, and a problem (a full disk, a market that does
 * not answer, a job that never ends) costs one try: it is reported, and the buyer tries again.
 * When `signal` aborts it returns at once: it never waits for a job to end (the provider may be
 * the very agent that is stopping).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Contract, Wallet } from 'ethers';
import { ANVIL_KEYS } from '../chain/anvil.js';
import { ESCROW_ABI } from '../chain/abi.js';
import type { DevnetInfo } from './devnet.js';
import { depositToEscrow, mintTokens, tokens } from '../chain/deploy.js';
import { makeProvider } from '../chain/provider.js';
import type { Logger } from '../log.js';
import type { DemoTimings } from './timing.js';
import { bounded, pause, Stopped } from './waits.js';

const LOW_DEPOSIT = tokens('50');
/** How long topping up the deposit on the local chain may take. */
const CHAIN_TIMEOUT_MS = 30_000;

export interface DemoBuyerOptions {
  marketUrl: string;
  chain: DevnetInfo;
  imageId: string;
  /** Where the jobs' pictures go (the last five are kept). */
  outputs: string;
  /** How many jobs were submitted before (the count goes on across restarts). */
  jobsSubmitted: number;
  timings: DemoTimings;
  log: Logger;
  signal: AbortSignal;
  onSubmitted(count: number): void;
  onProblem(message: string): void;
}

export async function runDemoBuyer(o: DemoBuyerOptions): Promise<void> {
  const { BuyerClient } = await import('../../buyer/index.js');
  const { demoJobRequest } = await import('./image.js');
  const buyer = new Wallet(o.chain.buyer.privateKey);
  const t = o.timings;
  let client: Awaited<ReturnType<typeof BuyerClient.connect>> | null = null;
  let submitted = o.jobsSubmitted;
  try {
    while (!o.signal.aborted) {
      let ok = false;
      try {
        await bounded(topUpDeposit(o.chain, buyer.address), o.signal, CHAIN_TIMEOUT_MS, `The local chain did not answer within ${CHAIN_TIMEOUT_MS / 1000} s (topping up the demo buyer's deposit).`);
        if (!client) {
          const connecting = BuyerClient.connect({ market: o.marketUrl, signer: buyer, agent: 'offshift-demo-buyer', expectChainId: o.chain.chainId, expectEscrow: o.chain.escrow });
          try {
            client = await bounded(connecting, o.signal, t.submitTimeoutMs, `The demo market did not sign the demo buyer in within ${t.submitTimeoutMs / 1000} s.`);
          } catch (error) {
            // A connection that arrives after a stop or a timeout is closed, not left open.
            connecting.then((c) => c.close(), () => {});
            throw error;
          }
        }
        const n = submitted + 1;
        const dir = path.join(o.outputs, String(n % 5));
        fs.rmSync(dir, { recursive: true, force: true });
        // One attempt: the demo network has one provider, and a preempted job is never placed on the same provider again.
        const handle = await bounded(client.submit(demoJobRequest(o.imageId, n), { outputDir: dir, maxAttempts: 1 }), o.signal, t.submitTimeoutMs, `The demo market did not take the demo buyer's job within ${t.submitTimeoutMs / 1000} s (is its disk full? see demo/demo.log).`);
        submitted = n;
        o.onSubmitted(n);
        try {
          const result = await bounded(handle.result, o.signal, t.resultTimeoutMs, `Demo job ${handle.jobId} did not end within ${Math.round(t.resultTimeoutMs / 1000)} s: cancelled; the buyer submits a new one.`);
          o.log.info('demo job ended', { jobId: result.jobId, state: result.state, paid: result.paid, provider: result.provider });
          ok = true;
        } catch (error) {
          // Stopping or given up: the market is told (best effort); nobody waits for the answer.
          handle.cancel();
          throw error;
        }
      } catch (error) {
        if (error instanceof Stopped || o.signal.aborted) break;
        o.onProblem((error as Error).message);
        o.log.warn('demo buyer problem', { error: (error as Error).message });
        client?.close();
        client = null;
      }
      await pause(ok ? t.pauseMs : t.retryMs, o.signal);
    }
  } finally {
    client?.close();
  }
}

/** The demo buyer's escrow deposit, topped up from the local chain when it runs low. */
async function topUpDeposit(chain: DevnetInfo, buyerAddress: string): Promise<void> {
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
