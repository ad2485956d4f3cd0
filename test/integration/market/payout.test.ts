/**
 * The payout address on real parts (issue 17): anvil with the real escrow, the reference market,
 * a real agent running the job in Docker, the buyer client. The machine's key signs in and signs
 * its reports; the vouchers name the payout address; the machine's own redeem pays the payout
 * address exactly and leaves the machine's token balance untouched; the ledger, the earnings table
 * and the CSV say where the money went. A market of an earlier revision, which cannot name the
 * payee, gets no work from a machine with a payout address, and says why.
 */
import { Contract, Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ESCROW_ABI, TOKEN_ABI } from '../../../runtime/chain/abi.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { LyingMarket, makeOffer, startAgent } from './lying-market.js';
import type { Msg } from './peer.js';
import { useRealLoop } from './real-loop.js';

const skip = canBuildTestImage();
if (skip) console.warn(`[skipped] payout address tests: ${skip}`);

describe.skipIf(skip !== null)('the payout address with real parts', () => {
  const loop = useRealLoop();
  const { market, provider, buyer, job } = loop;

  it('vouchers name the payout address; the machine redeems and the escrow pays the payout address exactly, never the machine', async () => {
    const m = await market();
    const p = await provider(m.url);
    const payout = Wallet.createRandom().address;
    const client = p.agent.client();
    const set = await client.call('wallet.settings', { payoutAddress: payout.toLowerCase() });
    expect(set.payout).toEqual({ address: payout, locked: false, problem: null });
    // The market hears of it from the next advertisement.
    await until('the market to know the payout address', () => m.market.providersView().find((x) => x.address === p.address)?.ad?.payee === payout, 10_000);

    const b = await buyer(m.url);
    const handle = await b.submit(job(6), { outputDir: null });
    const result = await handle.result;
    expect(result).toMatchObject({ state: 'succeeded', provider: p.address });
    await until('the final voucher in the ledger', async () => BigInt((await client.call('wallet.status', {})).redeemable) === BigInt(result.paid), 10_000);

    // Every voucher counted names the payout address as its payee.
    const money = await p.agent.money.load();
    const counted = money.ledger.redeemableVouchers({ chainId: loop.chain.chainId, escrow: loop.chain.escrow });
    expect(counted.length).toBeGreaterThan(0);
    for (const v of counted) expect(v.voucher).toMatchObject({ provider: p.address, payee: payout });

    const token = new Contract(loop.chain.token, TOKEN_ABI, loop.chain.provider);
    const balance = async (a: string) => (await token.getFunction('balanceOf')(a)) as bigint;
    const machineBefore = await balance(p.address);
    const redeemed = await money.wallet.redeem();
    expect(redeemed.map((r) => r.outcome)).toEqual(['ok']);
    expect(await balance(payout)).toBe(BigInt(result.paid));
    expect(await balance(p.address)).toBe(machineBefore);
    const escrow = new Contract(loop.chain.escrow, ESCROW_ABI, loop.chain.provider);
    expect((await escrow.getFunction('paid')(loop.chain.buyer.address, p.address, toJobId(result.jobId))) as bigint).toBe(BigInt(result.paid));

    // Where the money went: the redemption's payee (from the escrow's PaidTo event), the job row, the CSV.
    const row = money.db.prepare('SELECT payee, amount FROM ledger_redemptions').all() as { payee: string; amount: string }[];
    expect(row).toEqual([{ payee: payout, amount: result.paid }]);
    const jobs = await client.call('earnings.jobs', {});
    expect(jobs.jobs[0]).toMatchObject({ status: 'redeemed', paidTo: payout });
    const csv = (await client.call('earnings.exportCsv', { timeZone: 'UTC' })).csv.trim().split('\n');
    expect(csv[1]!.endsWith(`,${payout}`)).toBe(true);
    // A full reconciliation from the chain finds the same payee.
    money.db.prepare('DELETE FROM ledger_redemptions').run();
    await money.wallet.reconcile({ full: true });
    expect(money.db.prepare('SELECT payee FROM ledger_redemptions').all()).toEqual([{ payee: payout }]);
  }, 120_000);

  it('a market that cannot name the payee (revision 2) gets no work: the machine says why', async () => {
    const m = await market({ versions: [1, 2] });
    const p = await provider(m.url);
    const payout = Wallet.createRandom().address;
    await p.agent.client().call('wallet.settings', { payoutAddress: payout });
    await until('the advertisement to say why no work is taken', () => {
      const ad = m.market.providersView().find((x) => x.address === p.address)?.ad;
      return ad?.availability.state === 'paused' && /payout address .* revision 2/.test(ad.availability.reason);
    }, 10_000);
    const status = await p.agent.client().call('market.status', {});
    expect(status).toMatchObject({ state: 'refused', reason: expect.stringMatching(/^Earnings go to the payout address .* revision 2, which cannot name a payee/) as string });
    const b = await buyer(m.url);
    const handle = await b.submit(job(3), { outputDir: null });
    await new Promise((r) => setTimeout(r, 2000));
    expect(m.market.jobsView().find((j) => j.jobId === handle.jobId)?.state).toBe('queued');
    expect(p.agent.jobs.runner.list()).toEqual([]);
    // Clearing the payout address takes work from it again.
    await p.agent.client().call('wallet.settings', { payoutAddress: null });
    expect((await handle.result).state).toBe('succeeded');
    expect(await p.agent.client().call('market.status', {})).toMatchObject({ state: 'connected' });
  }, 120_000);

  it("refuses every voucher that does not pay the payout address, even one a market relays paying the machine's own key; counts the one that does", async () => {
    const chain = loop.chain;
    const lm = await LyingMarket.start(chain, { version: 3 });
    loop.defer(() => lm.close());
    const a = await startAgent(chain, lm);
    loop.defer(a.cleanup);
    const payout = Wallet.createRandom().address;
    await a.agent.client().call('wallet.settings', { payoutAddress: payout });
    await lm.next((m) => m.type === 'advertise' && (m.ad as { payee?: string }).payee === payout, 10_000);
    const offer = makeOffer(chain, chain.buyer.address, { image: sandboxTestImage(), command: ['sh', '-c', 'sleep 60'], maxDurationSeconds: 120 });
    lm.send({ type: 'offer', offer });
    expect((await lm.reply(offer.offerId, 30_000)).accept).toBe(true);
    lm.send({ type: 'job-confirmed', jobId: offer.jobId, offerId: offer.offerId });
    await lm.next((m) => m.type === 'job-started' && m.jobId === offer.jobId, 60_000);

    // The buyer's own signatures, right in every way but where the money goes, then one that pays the payout address.
    const expiry = Math.floor(Date.now() / 1000) + 86_400;
    const sign = (amount: string, payee?: string) =>
      signVoucher(chain.buyer, chain.chainId, chain.escrow, { buyer: chain.buyer.address, provider: a.address, ...(payee ? { payee } : {}), jobId: toJobId(offer.jobId), cumulativeAmount: amount, expiry });
    const stranger = Wallet.createRandom().address;
    let ended: Msg | null = null;
    let paidOnce = false;
    while (!ended) {
      const m = await lm.next((x) => (x.type === 'usage' && (x.report as { jobId: string }).jobId === offer.jobId) || (x.type === 'job-ended' && (x.end as { jobId: string }).jobId === offer.jobId), 30_000);
      if (m.type === 'job-ended') ended = m;
      else {
        const due = (m.report as { amountDue: string }).amountDue;
        for (const bad of [await sign(due), await sign(due, a.address), await sign(due, stranger)]) lm.send({ type: 'voucher', jobId: offer.jobId, signed: bad });
        if (!paidOnce) lm.send({ type: 'voucher', jobId: offer.jobId, signed: await sign(due, payout) });
        paidOnce = true;
      }
    }
    // Paid once, then only by vouchers paying elsewhere: the job stops as unpaid.
    expect(ended.end).toMatchObject({ state: 'unpaid' });
    const money = await a.agent.money.load();
    const counted = money.ledger.redeemableVouchers({ chainId: chain.chainId, escrow: chain.escrow });
    expect(counted.map((v) => v.voucher.payee)).toEqual([payout]);
    const refused = money.ledger.refusedVouchers().vouchers;
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(new Set(refused.map((r) => r.kind))).toEqual(new Set(['wrong-payee']));
    expect(refused.some((r) => /this machine's own address/.test(r.reason) && r.voucher.payee === undefined)).toBe(true);
    expect(refused.some((r) => r.voucher.payee === a.address)).toBe(true);
    expect(refused.some((r) => r.voucher.payee === stranger && r.reason.includes(`not the payout address ${payout}`))).toBe(true);
  }, 120_000);
});
