/**
 * A preempted job placed again, with real parts: a real anvil chain, the reference market, two
 * in-process agents (wallet, Docker runner, real containers) and the buyer client. The job starts
 * on provider A; A's owner comes back (a manual idle source, "stop" on return, as the give-back
 * tests do), so A stops the job `preempted` and pauses; the market places the job on B, where it
 * finishes. The buyer paid each provider on its own channel (buyer, provider, jobId): each
 * redeems what its own ledger holds, the chain agrees to the base unit, and the sum is the
 * buyer's `paid`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Contract } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { toJobId } from '../../../runtime/chain/devnet.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import { BuyerClient, type BuyerEvent } from '../../../market/buyer-client.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';

const skip = canBuildTestImage();
if (skip) console.warn(`[skipped] market re-placement with real providers: ${skip}`);

const PASSWORD = 'correct horse battery staple';
const PRICE = tokens('36'); // 0.01 token a second

describe.skipIf(skip !== null)('a preempted job placed again, with real providers', () => {
  let chain: TestChain;
  let image: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    image = sandboxTestImage();
    chain = await startTestChain({ deposit: '1000' });
  }, 180_000);

  afterAll(async () => {
    await chain?.stop();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** An agent on the test chain, connected to the market (as in provider.test.ts), with an idle source the test controls. */
  async function provider(url: string, idle: ManualIdleSource | null): Promise<{ agent: Agent; address: string }> {
    const temp = makeTempHome('offshift-market-replace-');
    fs.writeFileSync(
      path.join(temp.home, 'devnet.json'),
      JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: Number(new URL(chain.rpcUrl).port), pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
    );
    const agent = createAgent({
      home: temp.home,
      log: silentLogger,
      env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      idleSource: idle,
      market: { enabled: true, demo: false, backoff: { minMs: 200, maxMs: 1000 } },
    });
    const { address } = await agent.client().call('wallet.create', { password: PASSWORD });
    await chain.fund(address, { eth: '5' });
    agent.schedule.settings.update('market', { url, minPricePerJobHour: tokens('1').toString() });
    await agent.start();
    cleanups.push(async () => {
      await agent.jobs.runner.preemptAll(0).catch(() => {});
      await agent.stop();
      temp.cleanup();
    });
    await until(async () => (await agent.client().call('market.status', {})).state === 'connected', 20_000, 'the agent to sign in to the market');
    return { agent, address };
  }

  it('runs on A, is preempted when A\'s owner comes back, finishes on B; each provider redeems exactly its own ledger and the sum is what the buyer paid', async () => {
    const m: RunningMarket = await startMarket({ port: 0, chainId: chain.chainId, escrow: chain.escrow, log: silentLogger, offerTtlMs: 5000 });
    cleanups.push(() => m.close().catch(() => {}));
    const idleA = new ManualIdleSource(3600);
    const a = await provider(m.url, idleA);
    await a.agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });

    const events: BuyerEvent[] = [];
    const b0 = await BuyerClient.connect({ market: m.url, signer: chain.buyer.privateKey, expectChainId: chain.chainId, expectEscrow: chain.escrow, reconnectForMs: 60_000, onEvent: (e) => events.push(e) });
    cleanups.push(() => b0.close());
    const handle = await b0.submit(
      {
        image,
        command: ['sh', '-c', 'i=0; while [ $i -lt 8 ]; do echo tick $i; sleep 1; i=$((i+1)); done'],
        gpus: 0,
        cpus: 0.5,
        memoryMiB: 64,
        diskMiB: 64,
        maxDurationSeconds: 120,
        pricePerHour: PRICE.toString(),
        reportIntervalSeconds: 5,
      },
      { outputDir: null, maxAttempts: 3 },
    );
    const onA = () => a.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(handle.jobId));
    await until(() => onA()?.state === 'running', 30_000, 'the job to run on A');
    // B signs in while A runs the job; it is offered nothing yet.
    const b = await provider(m.url, null);
    await new Promise((r) => setTimeout(r, 3000));

    // A's owner comes back: the job is stopped, preempted; A pauses.
    idleA.activity();
    const stopped = await until(() => (onA() && isFinalState(onA()!.state) ? onA() : null), 15_000, 'the job to stop on A');
    expect(stopped.state).toBe('preempted');

    const result = await handle.result;
    expect(result.state).toBe('succeeded');
    expect(result.provider).toBe(b.address);
    expect(result.attempts.map((x) => [x.attempt, x.provider, x.state])).toEqual([
      [1, a.address, 'preempted'],
      [2, b.address, 'succeeded'],
    ]);
    const [first, second] = result.attempts as [(typeof result.attempts)[0], (typeof result.attempts)[0]];
    expect(first.usageSeconds).toBeGreaterThanOrEqual(2);
    expect(second.usageSeconds).toBeGreaterThanOrEqual(7);
    expect(BigInt(first.paid)).toBe((BigInt(first.usageSeconds) * PRICE) / 3600n);
    expect(BigInt(second.paid)).toBe((BigInt(second.usageSeconds) * PRICE) / 3600n);
    expect(BigInt(result.paid)).toBe(BigInt(first.paid) + BigInt(second.paid));
    expect(result.usageSeconds).toBe(first.usageSeconds + second.usageSeconds);
    expect(result.refusedReports).toEqual([]);
    expect(events.some((e) => e.type === 'update' && e.reason === 're-placing' && e.detail.includes(`Preempted on provider ${a.address}: placing it again (attempt 2 of 3)`))).toBe(true);
    expect(b.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(handle.jobId))?.state).toBe('succeeded');
    expect(m.market.jobsView().find((j) => j.jobId === handle.jobId)).toMatchObject({ state: 'succeeded', attempts: 2, paid: result.paid, usageSeconds: result.usageSeconds });

    // Each provider holds its own channel's last voucher, redeems it, and the chain agrees with its ledger.
    const escrow = new Contract(chain.escrow, ESCROW_ABI, chain.provider);
    let onChainTotal = 0n;
    for (const [p, attempt] of [
      [a, first],
      [b, second],
    ] as const) {
      await until(async () => BigInt((await p.agent.client().call('wallet.status', {})).redeemable) === BigInt(attempt.paid), 15_000, `${p.address}'s last voucher in its ledger`);
      const redeemed = await (await p.agent.money.load()).wallet.redeem();
      expect(redeemed.map((r) => r.outcome)).toEqual(['ok']);
      const paidOnChain = (await escrow.getFunction('paid')(chain.buyer.address, p.address, toJobId(handle.jobId))) as bigint;
      const ledger = await p.agent.client().call('wallet.status', {});
      expect(paidOnChain).toBe(BigInt(ledger.redeemed));
      expect(paidOnChain).toBe(BigInt(attempt.paid));
      expect(ledger.redeemable).toBe('0');
      onChainTotal += paidOnChain;
    }
    expect(onChainTotal).toBe(BigInt(result.paid));
    console.log(`[market re-placement] attempt 1 on A: ${first.usageSeconds} s, ${first.paid}; attempt 2 on B: ${second.usageSeconds} s, ${second.paid}; paid on chain ${onChainTotal} = the buyer's ${result.paid}`);
  }, 150_000);
});

async function until<T>(probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
