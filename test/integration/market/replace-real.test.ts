/**
 * A preempted job placed again, with real parts: a real anvil chain, the reference market, two
 * in-process agents (wallet, Docker runner, real containers) and the buyer client. The job starts
 * on provider A; A's owner comes back (a manual idle source, "stop" on return, as the give-back
 * tests do), so A stops the job `preempted` and pauses; the market places the job on B, where it
 * finishes. The buyer paid each provider on its own channel (buyer, provider, jobId): each
 * redeems what its own ledger holds, the chain agrees to the base unit, and the sum is the
 * buyer's `paid`.
 */
import { Contract } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import type { BuyerEvent } from '../../../buyer/index.js';
import { canBuildTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { PRICE, useRealLoop } from './real-loop.js';

const skip = canBuildTestImage();
if (skip) console.warn(`[skipped] market re-placement with real providers: ${skip}`);

describe.skipIf(skip !== null)('a preempted job placed again, with real providers', () => {
  const loop = useRealLoop();

  it('runs on A, is preempted when A\'s owner comes back, finishes on B; each provider redeems exactly its own ledger and the sum is what the buyer paid', async () => {
    const m = await loop.market();
    const idleA = new ManualIdleSource(3600);
    const a = await loop.provider(m.url, { idleSource: idleA });
    await a.agent.client().call('schedule.set', { onUserReturn: 'stop', stopGraceSeconds: 1 });

    const events: BuyerEvent[] = [];
    const b0 = await loop.buyer(m.url, (e) => events.push(e));
    const handle = await b0.submit(loop.job(8), { outputDir: null, maxAttempts: 3 });
    const onA = () => a.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(handle.jobId));
    await until('the job to run on A', () => onA()?.state === 'running', 30_000);
    // B signs in while A runs the job; it is offered nothing yet.
    const b = await loop.provider(m.url);
    await new Promise((r) => setTimeout(r, 3000));

    // A's owner comes back: the job is stopped, preempted; A pauses.
    idleA.activity();
    const stopped = await until('the job to stop on A', () => (onA() && isFinalState(onA()!.state) ? onA() : null), 15_000);
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
    const escrow = new Contract(loop.chain.escrow, ESCROW_ABI, loop.chain.provider);
    let onChainTotal = 0n;
    for (const [p, attempt] of [
      [a, first],
      [b, second],
    ] as const) {
      await until(`${p.address}'s last voucher in its ledger`, async () => BigInt((await p.agent.client().call('wallet.status', {})).redeemable) === BigInt(attempt.paid), 15_000);
      const redeemed = await (await p.agent.money.load()).wallet.redeem();
      expect(redeemed.map((r) => r.outcome)).toEqual(['ok']);
      const paidOnChain = (await escrow.getFunction('paid')(loop.chain.buyer.address, p.address, toJobId(handle.jobId))) as bigint;
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
