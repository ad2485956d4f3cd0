/**
 * The whole loop with real parts: a real anvil chain, the reference market, an in-process agent
 * with a wallet and the Docker runner, and a buyer client: a job is offered, accepted, run,
 * reported, paid by vouchers, redeemed on chain, and the provider's ledger equals the chain to
 * the base unit. Then what must happen when the buyer stops paying, when the market dies (and
 * comes back, or not), and when the provider declines.
 */
import path from 'node:path';
import { Contract } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ESCROW_ABI, TOKEN_ABI } from '../../../runtime/chain/abi.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import type { BuyerResult } from '../../../buyer/index.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { PRICE, useRealLoop } from './real-loop.js';

const skip = canBuildTestImage();
if (skip) console.warn(`[skipped] marketplace provider tests: ${skip}`);

describe.skipIf(skip !== null)('the marketplace loop with real parts', () => {
  const loop = useRealLoop();
  const { market, provider, buyer, job } = loop;

  it('runs a job offered by the market, is paid by vouchers, redeems them, and the ledger equals the chain', async () => {
    const m = await market();
    const p = await provider(m.url);
    const b = await buyer(m.url);
    const handle = await b.submit(job(7), { outputDir: null });
    const result: BuyerResult = await handle.result;
    expect(result).toMatchObject({ state: 'succeeded', provider: p.address });
    expect(result.usageSeconds).toBeGreaterThanOrEqual(6);
    expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);

    // The provider holds the final voucher, then redeems it.
    const wallet = (await p.agent.money.load()).wallet;
    await until('the final voucher in the ledger', async () => BigInt((await p.agent.client().call('wallet.status', {})).redeemable) === BigInt(result.paid), 10_000);
    const redeemed = await wallet.redeem();
    expect(redeemed.map((r) => r.outcome)).toEqual(['ok']);

    const escrow = new Contract(loop.chain.escrow, ESCROW_ABI, loop.chain.provider);
    const token = new Contract(loop.chain.token, TOKEN_ABI, loop.chain.provider);
    const paidOnChain = (await escrow.getFunction('paid')(loop.chain.buyer.address, p.address, toJobId(result.jobId))) as bigint;
    const balance = (await token.getFunction('balanceOf')(p.address)) as bigint;
    const totals = p.agent.money.handlers;
    const summary = await totals['wallet.status']({});
    expect(paidOnChain).toBe(BigInt(result.paid));
    expect(balance).toBe(BigInt(result.paid));
    expect(BigInt(summary.redeemed)).toBe(paidOnChain);
    expect(summary.redeemable).toBe('0');

    // What the owner sees: the offer accepted with its reason, the local job linked to the market's.
    const status = await p.agent.client().call('market.status', {});
    expect(status.offers[0]).toMatchObject({ jobId: result.jobId, accepted: true, reason: null });
    const local = p.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(result.jobId));
    expect(local?.state).toBe('succeeded');
  }, 90_000);

  it('stops a job as unpaid within two report intervals when the buyer stops paying, and keeps every voucher it got', async () => {
    const m = await market();
    const p = await provider(m.url);
    const b = await buyer(m.url);
    const handle = await b.submit(job(60), { outputDir: null });
    // Paid for a while, then the buyer goes away without a word.
    await until('a first valid voucher', async () => (await p.agent.client().call('market.status', {})).jobs.some((j) => BigInt(j.paidUpTo) > 0n), 20_000);
    const goneAt = Date.now();
    b.close();
    void handle.result.catch(() => {});
    const ended = await until('the job to stop as unpaid', async () => p.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(handle.jobId) && j.reason === 'unpaid' && isFinalState(j.state)), 30_000);
    expect(ended.state).toBe('cancelled');
    expect(ended.detail).toMatch(/has not paid/);
    expect(Date.now() - goneAt).toBeLessThan(2 * 5000 + 2000 + 5000 + 3000); // two intervals, the slack, one tick and the stop
    const status = await p.agent.client().call('wallet.status', {});
    expect(BigInt(status.redeemable)).toBeGreaterThan(0n);
    await until("the market to record it unpaid", () => m.market.jobsView().find((j) => j.jobId === handle.jobId && j.state === "unpaid"), 10_000);
    expect(m.market.jobsView().find((j) => j.jobId === handle.jobId)?.state).toBe('unpaid');
  }, 90_000);

  it('finishes and is paid when the market dies mid-job and comes back within the grace', async () => {
    const dir = makeTempHome('offshift-market-db-');
    loop.defer(() => dir.cleanup());
    const dbFile = path.join(dir.home, 'market.db');
    const first = await market({ dbFile });
    const port = first.port;
    const p = await provider(first.url, { settings: { disconnectGraceSeconds: 60 } });
    const b = await buyer(first.url);
    const handle = await b.submit(job(14), { outputDir: null });
    await until('the job to run', async () => (await p.agent.client().call('market.status', {})).jobs.some((j) => j.state === 'running'), 20_000);
    await first.close();
    await new Promise((r) => setTimeout(r, 1500));
    const second = await market({ port, dbFile });
    expect(second.port).toBe(port);
    const result = await handle.result;
    expect(result.state).toBe('succeeded');
    expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);
    await until('the final voucher in the ledger', async () => BigInt((await p.agent.client().call('wallet.status', {})).redeemable) === BigInt(result.paid), 10_000);
  }, 120_000);

  it('stops the job as market-unreachable when the market stays away past the grace; vouchers held are redeemed on chain without it', async () => {
    const m = await market();
    const p = await provider(m.url, { settings: { disconnectGraceSeconds: 10 } });
    const b = await buyer(m.url);
    const handle = await b.submit(job(60), { outputDir: null });
    void handle.result.catch(() => {});
    await until('a first valid voucher', async () => (await p.agent.client().call('market.status', {})).jobs.some((j) => BigInt(j.paidUpTo) > 0n), 20_000);
    b.close();
    await m.close();
    const ended = await until('the job to stop', async () => p.agent.jobs.runner.list().find((j) => j.marketJobId === toJobId(handle.jobId) && j.reason === 'market-unreachable' && isFinalState(j.state)), 30_000);
    expect(ended.state).toBe('cancelled');
    const status: MarketStatus = await p.agent.client().call('market.status', {});
    expect(status.state).toBe('retrying');
    const results = await (await p.agent.money.load()).wallet.redeem();
    expect(results.map((r) => r.outcome)).toEqual(['ok']);
    const escrow = new Contract(loop.chain.escrow, ESCROW_ABI, loop.chain.provider);
    const paidOnChain = (await escrow.getFunction('paid')(loop.chain.buyer.address, p.address, toJobId(handle.jobId))) as bigint;
    expect(paidOnChain).toBeGreaterThan(0n);
  }, 120_000);

  it('declines an offer with the reason, and the market then offers the job to the next provider', async () => {
    const m = await market();
    const picky = await provider(m.url, { settings: { denyBuyers: [loop.chain.buyer.address] } });
    const b = await buyer(m.url);
    const handle = await b.submit(job(2), { outputDir: null });
    const declined = await until('the offer to be decided', async () => (await picky.agent.client().call('market.status', {})).offers.find((o) => o.jobId === handle.jobId), 15_000);
    expect(declined).toMatchObject({ accepted: false, reason: 'buyer-denied' });
    expect(declined.detail).toMatch(/deny list/);
    const willing = await provider(m.url);
    const result = await handle.result;
    expect(result).toMatchObject({ state: 'succeeded', provider: willing.address });
  }, 90_000);

  it('declines an offer the sandbox would refuse, in the runner\'s own words, and runs nothing', async () => {
    const m = await market();
    const p = await provider(m.url);
    const b = await buyer(m.url);
    const handle = await b.submit(job(2, { env: { NVIDIA_VISIBLE_DEVICES: 'all' } }), { outputDir: null });
    void handle.result.catch(() => {});
    const declined = await until('the offer to be decided', async () => (await p.agent.client().call('market.status', {})).offers.find((o) => o.jobId === handle.jobId), 15_000);
    expect(declined).toMatchObject({ accepted: false, reason: 'sandbox-refused' });
    expect(declined.detail).toMatch(/NVIDIA_VISIBLE_DEVICES is set by the agent/);
    expect(p.agent.jobs.runner.list()).toEqual([]);
    handle.cancel();
  }, 60_000);
});
