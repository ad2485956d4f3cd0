/**
 * A market that lies to a provider (issue 16): a real agent (wallet on a real anvil chain, the
 * Docker runner) signed in to a scripted market of ours that sends what an honest market never
 * would: a burst of 300 offers at once, then confirms every one of them; an offer that fails its
 * schema; a price the ledger could not record; two offers under one offerId; a job id whose
 * channel was already used. The agent must run no more than it advertised, answer every offer,
 * and never let a second offer replace the first.
 */
import Docker from 'dockerode';
import { Contract } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import type { JobRequestInput, Offer } from '../../../protocol/index.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { contractVoucher, signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { LyingMarket, makeOffer, startAgent } from './lying-market.js';
import { until } from '../../helpers/until.js';

const skip = canBuildTestImage();
if (skip) console.warn(`[skipped] provider admission tests: ${skip}`);

describe.skipIf(skip !== null)('a market that lies to a provider', () => {
  let chain: TestChain;
  let market: LyingMarket;
  let image: string;
  let agent: Awaited<ReturnType<typeof startAgent>>;
  const docker = new Docker();

  beforeAll(async () => {
    image = sandboxTestImage();
    chain = await startTestChain({ deposit: '1000' });
    market = await LyingMarket.start({ chainId: chain.chainId, escrow: chain.escrow });
    agent = await startAgent(chain, market);
  }, 180_000);

  afterAll(async () => {
    await agent?.cleanup();
    await market?.close();
    await chain?.stop();
  });

  const runner = () => agent.agent.jobs.runner;
  const offer = (job: Partial<JobRequestInput> = {}, over: Partial<Offer> = {}) => makeOffer(market.chain, chain.buyer.address, { ...job, image }, over);
  /** Containers of this agent running now (`docker ps`). */
  const running = async () => (await docker.listContainers({ filters: { label: [`${LABEL_AGENT}=${runner().agentInstance}`] } })).length;

  afterEach(async () => {
    await until('every job to end', () => runner().list(1000).every((j) => isFinalState(j.state)), 60_000);
    market.clear();
  }, 70_000);

  it('accepts no more of a burst of 300 offers than it has slots, and runs no more when the market confirms all 300', async () => {
    // What the agent advertised: no GPU on this machine, so one job at a time.
    const { ad } = (await market.next('advertise')) as unknown as { ad: { slots: number; cpus: number } };
    expect(ad.slots).toBe(1);
    const burst = Array.from({ length: 300 }, () => offer({ cpus: Math.min(2, ad.cpus), memoryMiB: 512, command: ['sleep', '3'] }));
    for (const o of burst) market.send({ type: 'offer', offer: o });
    const replies = await Promise.all(burst.map((o) => market.reply(o.offerId, 60_000)));
    const accepted = replies.filter((r) => r.accept);
    expect(accepted.length).toBe(1);
    // The accepted one holds both CPUs and the one slot: every other offer is declined for that.
    for (const r of replies.filter((x) => !x.accept)) {
      expect(r.reason).toBe('not-enough-cpus');
      expect(r.detail).toMatch(new RegExp(`^Declined: the job needs ${Math.min(2, ad.cpus)} CPUs, and 0 are free\\.`));
    }

    // The market confirms every offer, declined or not: only the accepted one may run.
    for (const o of burst) market.send({ type: 'job-confirmed', jobId: o.jobId, offerId: o.offerId });
    let most = 0;
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline) {
      most = Math.max(most, await running(), runner().list(1000).filter((j) => !isFinalState(j.state)).length);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(most).toBe(1);
    expect(runner().list(1000).length).toBe(1);
    const refused = await market.next((m) => m.type === 'error' && m.code === 'unknown-offer');
    expect(refused.message).toMatch(/is not one this agent accepted/);
  }, 120_000);

  it('answers an offer that fails its schema with an error and a decline naming the field', async () => {
    const bad = offer();
    market.send({ type: 'offer', offer: { ...bad, job: { ...bad.job, cpus: -3 } } });
    const error = await market.next('error');
    expect(error).toMatchObject({ code: 'invalid-message' });
    expect(error.message).toMatch(/offer\.job\.cpus/);
    const reply = await market.reply(bad.offerId);
    expect(reply).toMatchObject({ accept: false, reason: 'invalid-offer' });
    expect(reply.detail).toMatch(/^Declined: the offer is not valid: job\.cpus: /);
  });

  it('declines a price the ledger could not record (1e40 base units an hour), saying why', async () => {
    const o = offer({ pricePerHour: `1${'0'.repeat(40)}` });
    market.send({ type: 'offer', offer: o });
    const reply = await market.reply(o.offerId);
    expect(reply).toMatchObject({ accept: false, reason: 'invalid-offer' });
    expect(reply.detail).toMatch(/job\.pricePerHour: at most 1000000000000000000000000 base units an hour \(what the ledger and the escrow can record\)/);
    market.send({ type: 'job-confirmed', jobId: o.jobId, offerId: o.offerId });
    await market.next((m) => m.type === 'error' && m.code === 'unknown-offer');
    expect(runner().list(1000)).toHaveLength(1); // only the burst's job, from the test before
  });

  it('refuses a second offer under the same offerId; the first stands and is the one that runs', async () => {
    const first = offer({ command: ['sleep', '1'] });
    const second = offer({ command: ['sleep', '1'], cpus: 0.25 }, { offerId: first.offerId });
    market.send({ type: 'offer', offer: first });
    market.send({ type: 'offer', offer: second });
    const refused = await market.next((m) => m.type === 'error' && m.code === 'duplicate-offer');
    expect(refused).toMatchObject({ ref: first.offerId });
    expect(refused.message).toMatch(/already used by an earlier offer; this offer is refused and the earlier one stands/);
    const reply = await market.reply(first.offerId);
    expect(reply.accept).toBe(true);
    expect(await market.next((m) => m.type === 'offer-reply' && m.offerId === first.offerId, 500).catch(() => null)).toBeNull();
    // A confirmation naming the second offer's job does not start it.
    market.send({ type: 'job-confirmed', jobId: second.jobId, offerId: first.offerId });
    await market.next((m) => m.type === 'error' && m.code === 'unknown-offer');
    market.send({ type: 'job-confirmed', jobId: first.jobId, offerId: first.offerId });
    const job = await until('the first offer\'s job', () => runner().list(1000).find((j) => j.marketJobId === toJobId(first.jobId)), 10_000);
    expect(job.spec.cpus).toBe(0.5);
    expect(runner().list(1000).some((j) => j.marketJobId === toJobId(second.jobId))).toBe(false);
    const status = await agent.agent.client().call('market.status', {});
    expect(status.offers.filter((o) => o.offerId === first.offerId)).toMatchObject([{ jobId: first.jobId, accepted: true }]);
  }, 30_000);

  it('declines a job id it has taken before', async () => {
    const first = offer({ command: ['true'] });
    market.send({ type: 'offer', offer: first });
    expect((await market.reply(first.offerId)).accept).toBe(true);
    market.send({ type: 'job-confirmed', jobId: first.jobId, offerId: first.offerId });
    await until('the job to end', () => runner().list(1000).find((j) => j.marketJobId === toJobId(first.jobId) && isFinalState(j.state)), 20_000);
    const again = offer({}, { jobId: first.jobId });
    market.send({ type: 'offer', offer: again });
    const reply = await market.reply(again.offerId);
    expect(reply).toMatchObject({ accept: false, reason: 'job-id-used' });
    expect(reply.detail).toMatch(new RegExp(`job id ${first.jobId} is not new: this agent took it on `));
  }, 30_000);

  it('declines a job id whose channel was already paid on chain', async () => {
    const o = offer();
    // The buyer paid 2 tokens on the channel (buyer, this provider, job id) before this offer.
    const signed = await signVoucher(chain.buyer, chain.chainId, chain.escrow, { buyer: chain.buyer.address, provider: agent.address, jobId: toJobId(o.jobId), cumulativeAmount: tokens('2').toString(), expiry: Math.floor(Date.now() / 1000) + 86_400 });
    const escrow = new Contract(chain.escrow, ESCROW_ABI, chain.deployer);
    await (await escrow.getFunction('redeem')(contractVoucher(signed.voucher), signed.signature)).wait();
    market.send({ type: 'offer', offer: o });
    const reply = await market.reply(o.offerId);
    expect(reply).toMatchObject({ accept: false, reason: 'job-id-used' });
    expect(reply.detail).toMatch(/its channel was already paid 2 \w+ on chain/);
    // Nothing is held for it: the next offer is taken.
    const next = offer();
    market.send({ type: 'offer', offer: next });
    expect((await market.reply(next.offerId)).accept).toBe(true);
    market.send({ type: 'offer-withdrawn', offerId: next.offerId, reason: 'test' });
  }, 30_000);
});
