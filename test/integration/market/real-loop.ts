/**
 * What the marketplace tests with real parts share: a real anvil chain, reference markets, in-process
 * agents (a wallet on the test chain, the Docker runner) connected to a market, buyer clients, and
 * a small job of the sandbox test image. `useRealLoop()` registers the hooks of the describe block
 * it is called in: the chain starts before its tests and stops after them, and whatever a test
 * made (markets, agents, buyers) is closed after that test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { silentLogger } from '../../../runtime/log.js';
import type { JobRequestInput } from '../../../protocol/index.js';
import type { MarketPatch } from '../../../runtime/market/settings.js';
import type { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';
import { sandboxTestImage } from '../../helpers/test-images.js';

export const PASSWORD = 'correct horse battery staple';
/** 0.01 token a second. */
export const PRICE = tokens('36');

export interface Provider {
  agent: Agent;
  address: string;
  home: string;
}

export interface RealLoop {
  /** Started in beforeAll. */
  readonly chain: TestChain;
  market(options?: { port?: number; dbFile?: string; versions?: number[]; demandIntervalMs?: number }): Promise<RunningMarket>;
  /** An agent whose wallet network is the test chain, signed in to the market at `url`. */
  provider(url: string, options?: { settings?: MarketPatch; idleSource?: ManualIdleSource | null }): Promise<Provider>;
  buyer(url: string, onEvent?: (event: BuyerEvent) => void): Promise<BuyerClient>;
  /** A CPU-only job that prints a tick a second for `seconds` seconds. */
  job(seconds: number, extra?: Partial<JobRequestInput>): JobRequestInput;
  /** Runs `cleanup` after the current test (with the markets, agents and buyers it made). */
  defer(cleanup: () => Promise<void> | void): void;
}

export function useRealLoop(): RealLoop {
  let chain: TestChain | null = null;
  let image = '';
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    image = sandboxTestImage();
    chain = await startTestChain({ deposit: '1000' });
  }, 180_000);
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await chain?.stop();
  });

  const theChain = (): TestChain => {
    if (!chain) throw new Error('the test chain is not started (useRealLoop() registers a beforeAll)');
    return chain;
  };

  return {
    get chain() {
      return theChain();
    },
    async market(options = {}) {
      const c = theChain();
      const m = await startMarket({ port: options.port ?? 0, dbFile: options.dbFile ?? null, chainId: c.chainId, escrow: c.escrow, log: silentLogger, offerTtlMs: 5000, ...(options.versions ? { versions: options.versions } : {}), ...(options.demandIntervalMs ? { demandIntervalMs: options.demandIntervalMs } : {}) });
      cleanups.push(() => m.close().catch(() => {}));
      return m;
    },
    async provider(url, options = {}) {
      const c = theChain();
      const temp = makeTempHome('offshift-market-provider-');
      fs.writeFileSync(
        path.join(temp.home, 'devnet.json'),
        JSON.stringify({ rpcUrl: c.rpcUrl, chainId: c.chainId, port: Number(new URL(c.rpcUrl).port), pid: c.anvil.pid, token: c.token, escrow: c.escrow, fromBlock: 0, buyer: { address: c.buyer.address, privateKey: c.buyer.privateKey } }),
      );
      const agent = createAgent({
        home: temp.home,
        log: silentLogger,
        env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        idleSource: options.idleSource ?? null,
        market: { enabled: true, demo: false, backoff: { minMs: 200, maxMs: 1000 } },
      });
      const { address } = await agent.client().call('wallet.create', { password: PASSWORD });
      await c.fund(address, { eth: '5' });
      agent.schedule.settings.update('market', { url, minPricePerJobHour: tokens('1').toString(), ...options.settings });
      await agent.start();
      cleanups.push(async () => {
        await agent.jobs.runner.preemptAll(0).catch(() => {});
        await agent.stop();
        temp.cleanup();
      });
      await until('the agent to sign in to the market', async () => (await agent.client().call('market.status', {})).state === 'connected', 20_000);
      return { agent, address, home: temp.home };
    },
    async buyer(url, onEvent) {
      const c = theChain();
      const b = await BuyerClient.connect({ market: url, signer: c.buyer.privateKey, expectChainId: c.chainId, expectEscrow: c.escrow, reconnectForMs: 60_000, ...(onEvent ? { onEvent } : {}) });
      cleanups.push(() => b.close());
      return b;
    },
    defer: (cleanup) => void cleanups.push(cleanup),
    job: (seconds, extra = {}) => ({
      image,
      command: ['sh', '-c', `i=0; while [ $i -lt ${seconds} ]; do echo tick $i; sleep 1; i=$((i+1)); done`],
      gpus: 0,
      cpus: 0.5,
      memoryMiB: 64,
      diskMiB: 64,
      outputMiB: 0,
      maxDurationSeconds: 120,
      pricePerHour: PRICE.toString(),
      reportIntervalSeconds: 5,
      ...extra,
    }),
  };
}
