/**
 * A buyer (or a market) that lies to the provider with vouchers, against a real anvil chain, the
 * real escrow contract and the real SQLite ledger: what arrives goes through the provider's own
 * voucher intake (receiveMarketVoucher), the earnings are read back the way the earnings screen
 * reads them, and what the ledger calls redeemable is redeemed for real and compared.
 */
import path from 'node:path';
import { Contract, hexlify, randomBytes, Wallet, type HDNodeWallet } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { mined } from '../../../runtime/chain/provider.js';
import { depositToEscrow, tokens } from '../../../runtime/chain/deploy.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { silentLogger } from '../../../runtime/log.js';
import { channelUse } from '../../../runtime/market/channel-history.js';
import { PaidJob } from '../../../runtime/market/paid-job.js';
import type { MarketJobRow } from '../../../runtime/market/store.js';
import { escrowReader, receiveMarketVoucher, recheckCounted } from '../../../runtime/market/voucher-intake.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import type { SignedVoucher } from '../../../runtime/wallet/schema.js';
import { contractVoucher, signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const PRICE = tokens(3600); // 1 OFT a second
const DAY = 86_400;

describe('a buyer that lies to the provider with vouchers', () => {
  let chain: TestChain;
  let temp: ReturnType<typeof makeTempHome>;
  let db: Db;
  let ledger: Ledger;
  const provider = Wallet.createRandom();
  let now = 0;

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    temp = makeTempHome();
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
    ledger = new Ledger(db, () => now);
  }, 60_000);
  afterAll(async () => {
    db?.close();
    temp?.cleanup();
    await chain?.stop();
  });

  beforeEach(async () => {
    now = (await chain.now()) * 1000;
  });

  function marketJob(jobId: string, buyer: string, reportedSeconds = 0): MarketJobRow {
    const row: MarketJobRow = {
      job_id: jobId,
      local_job_id: `m-${jobId}`,
      market_url: 'ws://127.0.0.1:1',
      buyer,
      price_per_hour: PRICE.toString(),
      report_interval_s: 5,
      chain_id: chain.chainId,
      escrow: chain.escrow,
      accepted_at: now,
      report_seq: reportedSeconds > 0 ? 1 : 0,
      reported_seconds: reportedSeconds,
      paid_up_to: '0',
      last_voucher_at: null,
      voucher_problem: null,
      ended_at: null,
      end_state: null,
      end_reason: null,
      final_sent: 0,
    };
    db.prepare('DELETE FROM market_jobs WHERE job_id = ?').run(jobId);
    db.prepare(
      `INSERT INTO market_jobs (job_id, local_job_id, market_url, buyer, price_per_hour, report_interval_s, chain_id, escrow, accepted_at, report_seq, reported_seconds)
       VALUES (@job_id, @local_job_id, @market_url, @buyer, @price_per_hour, @report_interval_s, @chain_id, @escrow, @accepted_at, @report_seq, @reported_seconds)`,
    ).run(row);
    return row;
  }

  /** The provider's money side of a running job (only what the voucher path uses). */
  function tracked(row: MarketJobRow): PaidJob {
    return new PaidJob(row, { db, log: silentLogger, now: () => now, provider: provider.address, signMessage: async () => '0x', usageSeconds: () => row.reported_seconds, send: () => true, recordOwed: () => {}, connected: () => true, stopUnpaid: () => {}, onChange: () => {} });
  }

  const deps = () => ({ db, ledger, log: silentLogger, now: () => now, provider: provider.address, reader: () => escrowReader(chain.provider, chain.escrow), autoRedeem: async () => [], onChange: () => {} });

  async function sign(signer: Wallet | HDNodeWallet, jobId: string, amount: bigint, over: { buyer?: string; expiry?: number } = {}): Promise<SignedVoucher> {
    return signVoucher(signer, chain.chainId, chain.escrow, { buyer: over.buyer ?? signer.address, provider: provider.address, jobId: toJobId(jobId), cumulativeAmount: amount.toString(), expiry: over.expiry ?? Math.floor(now / 1000) + DAY });
  }

  const row = (jobId: string) => db.prepare<[string], MarketJobRow>('SELECT * FROM market_jobs WHERE job_id = ?').get(jobId)!;
  const earningsRows = (jobId: string) => ledger.jobs(1000).jobs.filter((j) => j.marketJobId === toJobId(jobId));
  const balance = async (address: string) => (await new Contract(chain.token, ['function balanceOf(address) view returns (uint256)'], chain.provider).getFunction('balanceOf')(address)) as bigint;
  const buyerWallet = () => new Wallet(chain.buyer.privateKey);

  it('a counterfeit voucher (a random key naming itself the buyer) is refused, kept as evidence and never summed', async () => {
    const job = `job-${hexlify(randomBytes(4))}`;
    const paid = marketJob(job, chain.buyer.address, 10);
    const job1 = tracked(paid);
    const before = ledger.totals();
    const forger = Wallet.createRandom();
    const counterfeit = await sign(forger, job, tokens(10_000_007));
    await receiveMarketVoucher(deps(), job, counterfeit, job1);
    expect(row(job).voucher_problem).toMatch(/names the buyer .* not this job's buyer/);
    // For a job that never ran here, too: no row is made for it.
    const elsewhere = `never-ran-${hexlify(randomBytes(4))}`;
    await receiveMarketVoucher(deps(), job, await sign(forger, elsewhere, tokens(5)), job1);
    expect(ledger.totals()).toEqual(before);
    expect(earningsRows(job)).toEqual([]);
    expect(earningsRows(elsewhere)).toEqual([]);
    const refused = ledger.refusedVouchers(2).vouchers;
    expect(refused.map((r) => r.kind)).toEqual(['wrong-channel', 'wrong-channel']);
    expect(refused[1]).toMatchObject({ voucher: { buyer: forger.address, cumulativeAmount: tokens(10_000_007).toString() }, expectedBuyer: chain.buyer.address, reason: expect.stringMatching(/names the buyer/) });

    // The job's real buyer pays: that, and only that, counts.
    await receiveMarketVoucher(deps(), job, await sign(buyerWallet(), job, tokens(10)), job1);
    expect(row(job)).toMatchObject({ voucher_problem: null, paid_up_to: tokens(10).toString() });
    expect(ledger.totals().redeemable).toBe((BigInt(before.redeemable) + tokens(10)).toString());
  });

  it('a market that names a buyer with no deposit: its vouchers are refused (the escrow would not pay them)', async () => {
    const job = `job-${hexlify(randomBytes(4))}`;
    const poor = Wallet.createRandom();
    const t = tracked(marketJob(job, poor.address));
    const before = ledger.totals();
    await receiveMarketVoucher(deps(), job, await sign(poor, job, tokens(10_000_007)), t);
    expect(ledger.totals()).toEqual(before);
    expect(row(job).voucher_problem).toMatch(/deposit \(0\) does not cover/);
    expect(ledger.refusedVouchers(1).vouchers[0]).toMatchObject({ kind: 'uncovered' });
  });

  it('a reused job id: vouchers at or below what the channel was already paid are worth nothing and pay nothing of the new job', async () => {
    const job = `job-${hexlify(randomBytes(4))}`;
    const buyer = buyerWallet();
    // The channel was paid 2 OFT on chain (anyone may submit a buyer's voucher).
    const old = await sign(buyer, job, tokens(2));
    await mined(await new Contract(chain.escrow, ESCROW_ABI, chain.deployer).getFunction('redeem')(contractVoucher(old.voucher), old.signature));
    expect(await channelUse(db, chain.provider, { chainId: chain.chainId, escrow: chain.escrow, buyer: buyer.address, provider: provider.address, marketJobId: job })).toMatchObject({ used: true, seenLocally: false, paidOnChain: tokens(2) });

    // The market offers the same job id again; it ran 1 s (1 OFT), and the buyer sends 0.5 to 1.5 OFT.
    const t = tracked(marketJob(job, buyer.address, 1));
    const before = ledger.totals();
    for (const amount of [tokens('1.5'), tokens(1), tokens('0.5')]) {
      await receiveMarketVoucher(deps(), job, await sign(buyer, job, amount), t);
      expect(row(job).paid_up_to).toBe('0');
      expect(row(job).voucher_problem).toMatch(/already paid this job id 2000000000000000000 base units before this job.*pays nothing of this job's work/);
    }
    expect(row(job)).toMatchObject({ paid_up_to: '0', channel_paid_before: tokens(2).toString() });
    expect(ledger.totals().redeemable).toBe(before.redeemable);
    expect(ledger.refusedVouchers(3).vouchers.map((r) => r.kind)).toEqual(['worthless', 'worthless', 'worthless']);

    // 2.5 OFT adds 0.5 on chain: money (counted for 0.5), but it pays only 0.5 of the 1 OFT the job cost.
    await receiveMarketVoucher(deps(), job, await sign(buyer, job, tokens('2.5')), t);
    expect(row(job).voucher_problem).toMatch(/pays this job 500000000000000000 base units \(the first 2000000000000000000 of its 2500000000000000000 were paid before this job\), less than the 1000000000000000000/);
    expect(BigInt(ledger.totals().redeemable) - BigInt(before.redeemable)).toBe(tokens('0.5'));
    // 3 OFT pays the job's 1 OFT: paid up to 1 OFT of this job.
    await receiveMarketVoucher(deps(), job, await sign(buyer, job, tokens(3)), t);
    expect(row(job)).toMatchObject({ voucher_problem: null, paid_up_to: tokens(1).toString() });
    expect(earningsRows(job)).toHaveLength(1);

    // What the ledger calls redeemable for the channel is what the contract pays, to the base unit.
    const redeemableBefore = BigInt(ledger.totals().redeemable) - BigInt(before.redeemable);
    const best = ledger.redeemableVouchers({ chainId: chain.chainId, escrow: chain.escrow }).filter((v) => v.voucher.jobId === toJobId(job));
    const top = best.reduce((a, b) => (BigInt(b.voucher.cumulativeAmount) > BigInt(a.voucher.cumulativeAmount) ? b : a));
    const b0 = await balance(provider.address);
    await mined(await new Contract(chain.escrow, ESCROW_ABI, chain.deployer).getFunction('redeem')(contractVoucher(top.voucher), top.signature));
    expect((await balance(provider.address)) - b0).toBe(redeemableBefore);
    expect(redeemableBefore).toBe(tokens(1));
  });

  it("an honest job: a voucher sent again after it was redeemed still pays the job and is no new evidence; the buyer's deposit is shared by its channels", async () => {
    const job = `job-${hexlify(randomBytes(4))}`;
    const buyer = buyerWallet();
    const t = tracked(marketJob(job, buyer.address, 2));
    const v = await sign(buyer, job, tokens(2));
    await receiveMarketVoucher(deps(), job, v, t);
    expect(row(job)).toMatchObject({ voucher_problem: null, paid_up_to: tokens(2).toString(), channel_paid_before: '0' });
    await mined(await new Contract(chain.escrow, ESCROW_ABI, chain.deployer).getFunction('redeem')(contractVoucher(v.voucher), v.signature));
    const refusedBefore = ledger.refusedVouchers(1).total;
    await receiveMarketVoucher(deps(), job, v, t);
    expect(row(job).voucher_problem).toBeNull();
    expect(ledger.refusedVouchers(1).total).toBe(refusedBefore);
    expect(await channelUse(db, null, { chainId: chain.chainId, escrow: chain.escrow, buyer: buyer.address, provider: provider.address, marketJobId: job })).toMatchObject({ used: true, seenLocally: true, paidOnChain: null });

    // Two channels of one buyer cannot both be counted against the same deposit.
    const deposit = (await new Contract(chain.escrow, ESCROW_ABI, chain.provider).getFunction('deposits')(buyer.address)) as bigint;
    const owed = ledger.owedByBuyerElsewhere({ chainId: chain.chainId, escrow: chain.escrow, buyer: buyer.address, provider: provider.address, jobId: toJobId('none') });
    const a = `job-${hexlify(randomBytes(4))}`;
    const b = `job-${hexlify(randomBytes(4))}`;
    const room = deposit - owed;
    await receiveMarketVoucher(deps(), a, await sign(buyer, a, room - 1n), tracked(marketJob(a, buyer.address)));
    await receiveMarketVoucher(deps(), b, await sign(buyer, b, 2n), tracked(marketJob(b, buyer.address)));
    expect(row(a).voucher_problem).toBeNull();
    expect(row(b).voucher_problem).toMatch(/does not cover the 2 base units it adds plus the/);
  });

  it('a buyer that takes its deposit back after the notice period: the re-check after reconciliation stops counting what the escrow would no longer pay', async () => {
    const buyer = new Wallet(Wallet.createRandom().privateKey, chain.provider);
    await chain.fund(buyer.address, { eth: '1', tokens: '10' });
    await depositToEscrow(buyer, chain.token, chain.escrow, tokens(10));
    const job = `job-${hexlify(randomBytes(4))}`;
    const recheck = () => recheckCounted(ledger, escrowReader(chain.provider, chain.escrow), { chainId: chain.chainId, escrow: chain.escrow });
    // The tests above redeemed on chain without telling the ledger: the re-check settles those first.
    await recheck();
    await receiveMarketVoucher(deps(), job, await sign(buyer, job, tokens(8)), tracked(marketJob(job, buyer.address)));
    expect(await recheck()).toBe(0);
    const counted = BigInt(ledger.totals().redeemable);
    const escrow = new Contract(chain.escrow, ESCROW_ABI, buyer);
    await mined(await escrow.getFunction('requestWithdrawal')(tokens(10)));
    await chain.advance(chain.noticePeriod + 1);
    await mined(await escrow.getFunction('withdraw')());
    now = (await chain.now()) * 1000;
    expect(await recheck()).toBe(1);
    expect(BigInt(ledger.totals().redeemable)).toBe(counted - tokens(8));
    expect(ledger.refusedVouchers(1).vouchers[0]).toMatchObject({ kind: 'uncovered', reason: expect.stringMatching(/deposit \(0\) no longer covers/) });
    expect(earningsRows(job)[0]).toMatchObject({ status: 'pending', earned: '0' });
  });
});
