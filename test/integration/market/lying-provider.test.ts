/**
 * A provider that lies to a buyer, scripted over real WebSockets against the real market and the
 * real buyer client, paid on a real anvil chain: it accepts, runs nothing and claims more time
 * than has passed (at once, in bursts, and ahead of the clock); and it sends more output files
 * than a job may write. The buyer pays no more than the wall time it saw since the job started
 * (plus PAY_SKEW_S), which the escrow confirms when the liar redeems; it writes at most
 * MAX_OUTPUT_FILES files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Contract, id as keccakText, Wallet } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BuyerClient, PAY_SKEW_S, type BuyerEvent } from '../../../buyer/index.js';
import { startMarket } from '../../../market/server.js';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { silentLogger } from '../../../runtime/log.js';
import { amountForSeconds, MAX_OUTPUT_FILES } from '../../../protocol/index.js';
import type { SignedVoucher } from '../../../runtime/wallet/schema.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { TestProvider, type Msg } from './peer.js';

const IMAGE = 'sha256:' + '9a'.repeat(32);
/** 0.01 token a second. */
const PRICE = tokens('36');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a provider that lies to the buyer', () => {
  let chain: TestChain;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
  }, 180_000);
  afterAll(async () => {
    await chain?.stop();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(events: BuyerEvent[]) {
    const m = await startMarket({ chainId: chain.chainId, escrow: chain.escrow, log: silentLogger });
    cleanups.push(() => m.close());
    const provider = await TestProvider.connect(m.url, { chainId: chain.chainId, escrow: chain.escrow }, { gpus: [], freeGpus: 0, score: null });
    cleanups.push(() => provider.close());
    const buyer = await BuyerClient.connect({ market: m.url, signer: chain.buyer.privateKey, expectChainId: chain.chainId, expectEscrow: chain.escrow, onEvent: (e) => events.push(e) });
    cleanups.push(() => buyer.close());
    return { m, provider, buyer };
  }

  /** Accepts the next offer and says the job started (nothing runs). */
  async function take(p: TestProvider): Promise<string> {
    const o = await p.nextOffer();
    p.reply(o.offer.offerId, true);
    await p.peer.next('job-confirmed');
    p.peer.send({ type: 'job-started', jobId: o.offer.jobId });
    return o.offer.jobId;
  }

  it('runs nothing and claims 14 s at once, then ahead of the clock, then in a burst: the buyer pays no more than the wall time it saw plus the skew, and the escrow pays the liar exactly that', async () => {
    const events: BuyerEvent[] = [];
    const { provider: liar, buyer } = await setUp(events);
    liar.honestTiming = false;
    await chain.fund(liar.address);

    const submittedAt = Date.now();
    const handle = await buyer.submit({ image: IMAGE, command: ['sleep', '600'], gpus: 0, pricePerHour: PRICE.toString(), reportIntervalSeconds: 5, maxDurationSeconds: 600 });
    const jobId = await take(liar);
    const price = PRICE.toString();
    const startedAt = Date.now();
    // At t = 0: 14 s (the report the buyer used to pay).
    await liar.report(jobId, 14, price);
    // Every second for 6 s: always 14 s ahead of the clock (within the old slack of one interval + 10 s).
    for (let k = 1; k <= 6; k++) {
      await sleep(1000);
      await liar.report(jobId, Math.floor((Date.now() - startedAt) / 1000) + 14, price);
    }
    // A burst: ten reports at once, each an interval more.
    const before = Math.floor((Date.now() - startedAt) / 1000) + 14;
    for (let k = 1; k <= 10; k++) await liar.report(jobId, before + 5 * k, price);
    // The end: a final report claiming a minute.
    liar.end(jobId, 'succeeded', 60);
    await liar.report(jobId, Math.max(60, before + 51), price, { final: true });
    // Wall time to the last report, and a second for the buyer to take it in.
    const wallSeconds = Math.ceil((Date.now() - submittedAt) / 1000) + 1;
    const result = await handle.result;

    // What the buyer promised: no more than the wall time since it saw the job start, plus the skew.
    const bound = amountForSeconds(wallSeconds + PAY_SKEW_S, PRICE);
    expect(BigInt(result.paid)).toBeLessThanOrEqual(bound);
    expect(BigInt(result.paid)).toBeGreaterThan(0n);
    expect(result.refusedReports).toEqual([]);
    expect(result.cappedReports.length).toBeGreaterThanOrEqual(17);
    expect(result.cappedReports[0]).toMatchObject({ seq: 0, claimed: 14, paid: PAY_SKEW_S, problem: expect.stringMatching(/^paid 2 s of the 14 s claimed: it claims 14 s, but only 0 s have passed since the job started/) });
    expect(events.some((e) => e.type === 'usage' && e.paid && /paid \d+ s of the \d+ s claimed/.test(e.problem ?? ''))).toBe(true);

    // The liar redeems the last voucher it was sent: the escrow pays it what the buyer's result says, and no more.
    await sleep(200);
    const vouchers = liar.peer.inbox.filter((x): x is Msg & { signed: SignedVoucher } => x.type === 'voucher').map((x) => x.signed);
    const last = vouchers.reduce((a, b) => (BigInt(b.voucher.cumulativeAmount) > BigInt(a.voucher.cumulativeAmount) ? b : a));
    expect(last.voucher.cumulativeAmount).toBe(result.paid);
    const escrow = new Contract(chain.escrow, ESCROW_ABI, new Wallet(liar.wallet.privateKey, chain.provider));
    await (await escrow.getFunction('redeem')(last.voucher, last.signature)).wait();
    const paidOnChain = (await escrow.getFunction('paid')(chain.buyer.address, liar.address, keccakText(jobId))) as bigint;
    expect(paidOnChain).toBe(BigInt(result.paid));
    expect(paidOnChain).toBeLessThanOrEqual(bound);
  }, 60_000);

  it('sends more output files than a job may write (empty ones cost no bytes): the buyer writes MAX_OUTPUT_FILES and says it dropped the rest; the market relays no more than the cap either', async () => {
    const events: BuyerEvent[] = [];
    const { provider, buyer } = await setUp(events);
    const temp = makeTempHome('offshift-lying-output-');
    cleanups.push(() => temp.cleanup());
    const outDir = path.join(temp.home, 'out');
    const handle = await buyer.submit({ image: IMAGE, command: ['x'], gpus: 0, pricePerHour: PRICE.toString(), reportIntervalSeconds: 5 }, { outputDir: outDir });
    const jobId = await take(provider);
    const empty = crypto.createHash('sha256').update('').digest('hex');
    const total = MAX_OUTPUT_FILES + 100;
    for (let i = 0; i < total; i++) provider.peer.send({ type: 'output', chunk: { jobId, path: `many/${i}.txt`, index: 0, last: true, sha256: empty, data: '' } });
    provider.end(jobId, 'succeeded', 0);
    const result = await handle.result;

    expect(result.outputs).toHaveLength(MAX_OUTPUT_FILES);
    expect(fs.readdirSync(path.join(outDir, 'many'))).toHaveLength(MAX_OUTPUT_FILES);
    const refused = events.filter((e) => e.type === 'output-refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: expect.stringMatching(/more than 1000 files; a job writes at most 1000/) });
    // The market's own cap (files plus the chunks 16 MiB takes) answered the provider for what it dropped.
    const dropped = await provider.peer.next((x) => x.type === 'error' && x.code === 'output-too-large');
    expect(dropped.message).toMatch(/at most 1000 output files/);
    expect(provider.peer.closed).toBeNull();
  }, 60_000);
});
