/** The voucher check, pure, with real EIP-712 signatures (ethers Wallets): what is money, and what pays a job. */
import { Wallet, type HDNodeWallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { checkVoucher, isCheckedVoucher, jobPaymentProblem, MIN_VOUCHER_LIFETIME_S, type VoucherFacts } from '../../../runtime/market/voucher-check.js';
import { recoverVoucherSigner, signVoucher } from '../../../runtime/wallet/voucher.js';
import type { SignedVoucher } from '../../../runtime/wallet/schema.js';

const buyer = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const stranger = Wallet.createRandom();
const provider = new Wallet('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
const CHAIN = 31337;
const ESCROW = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const OTHER_ESCROW = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const NOW = 1_800_000_000;
const JOB = toJobId('job-42');

async function voucher(signer: Wallet | HDNodeWallet, over: Partial<{ amount: bigint; expiry: number; chainId: number; escrow: string; jobId: string; provider: string; buyer: string; payee: string }> = {}): Promise<SignedVoucher> {
  return signVoucher(signer, over.chainId ?? CHAIN, over.escrow ?? ESCROW, {
    buyer: over.buyer ?? buyer.address,
    provider: over.provider ?? provider.address,
    ...(over.payee ? { payee: over.payee } : {}),
    jobId: over.jobId ?? JOB,
    cumulativeAmount: (over.amount ?? 1000n).toString(),
    expiry: over.expiry ?? NOW + 86_400,
  });
}

function facts(signed: SignedVoucher, over: Partial<VoucherFacts> = {}): VoucherFacts {
  return {
    channel: { chainId: CHAIN, escrow: ESCROW, buyer: buyer.address, provider: provider.address, jobId: JOB },
    payee: null,
    recoveredSigner: recoverVoucherSigner(signed, CHAIN, ESCROW),
    nowSec: NOW,
    chain: { deposit: 10_000n, paid: 0n },
    owedElsewhere: 0n,
    ...over,
  };
}

const why = (v: SignedVoucher, over: Partial<VoucherFacts> = {}) => checkVoucher(v, facts(v, over)).refused;

describe('which vouchers are money for their channel', () => {
  it('counts a voucher signed by the job\'s buyer for this job, wallet, chain and escrow, backed by the deposit; only the check makes a CheckedVoucher', async () => {
    const v = await voucher(buyer);
    const verdict = checkVoucher(v, facts(v, { chain: { deposit: 10_000n, paid: 300n } }));
    expect(verdict.refused).toBeNull();
    expect(verdict.counted).toMatchObject({ value: 700n, paidOnChain: 300n, channel: { jobId: JOB } });
    expect(isCheckedVoucher(verdict.counted)).toBe(true);
    expect(isCheckedVoucher({ ...verdict.counted })).toBe(false);
  });

  it('with a payout address, counts only a voucher naming it; without one, only a voucher paying this wallet', async () => {
    const payout = Wallet.createRandom().address;
    const paysPayout = await voucher(buyer, { payee: payout });
    expect(checkVoucher(paysPayout, facts(paysPayout, { payee: payout })).refused).toBeNull();
    // The signature covers the payee: the same voucher with another payee is not the buyer's.
    expect(recoverVoucherSigner({ ...paysPayout, voucher: { ...paysPayout.voucher, payee: stranger.address } }, CHAIN, ESCROW)).not.toBe(buyer.address);
    for (const wrong of [await voucher(buyer), await voucher(buyer, { payee: provider.address }), await voucher(buyer, { payee: stranger.address })]) {
      expect(why(wrong, { payee: payout })).toMatchObject({ kind: 'wrong-payee', why: expect.stringContaining(`not the payout address ${payout}`) });
    }
    expect(why(await voucher(buyer), { payee: payout })!.why).toMatch(/this machine's own address/);
    // No payout address: a v1 voucher or one naming this wallet pays it; one naming anyone else does not.
    for (const ok of [await voucher(buyer), await voucher(buyer, { payee: provider.address })]) expect(why(ok)).toBeNull();
    expect(why(paysPayout)).toMatchObject({ kind: 'wrong-payee', why: expect.stringMatching(/no payout address is set here/) });
  });

  it('refuses a counterfeit: a random key that names itself the buyer (signature good, wrong channel)', async () => {
    const v = await voucher(stranger, { buyer: stranger.address, amount: 10_000_007n * 10n ** 18n });
    expect(why(v)).toMatchObject({ kind: 'wrong-channel', why: expect.stringMatching(/names the buyer .* not this job's buyer/) });
  });

  it('refuses a voucher signed by someone else, or for another chain or escrow (it recovers to someone else here)', async () => {
    expect(why(await voucher(stranger))).toMatchObject({ kind: 'forged', why: expect.stringMatching(/not signed by the buyer/) });
    for (const over of [{ chainId: 1 }, { escrow: OTHER_ESCROW }]) expect(why(await voucher(buyer, over))).toMatchObject({ kind: 'forged', why: expect.stringMatching(/another chain or escrow/) });
  });

  it('refuses a voucher for another job or another provider', async () => {
    expect(why(await voucher(buyer, { jobId: toJobId('job-43') }))).toMatchObject({ kind: 'wrong-channel', why: expect.stringMatching(/another job/) });
    expect(why(await voucher(buyer, { provider: stranger.address }))).toMatchObject({ kind: 'not-ours' });
  });

  it('refuses an expired voucher (the escrow would not pay it)', async () => {
    expect(why(await voucher(buyer, { expiry: NOW - 1 }))).toMatchObject({ kind: 'expired' });
  });

  it('a voucher at or below what the channel was already paid is worth nothing: refused, never counted', async () => {
    const v = await voucher(buyer, { amount: 1500n });
    expect(why(v, { chain: { deposit: 10_000n, paid: 2000n } })).toMatchObject({ kind: 'worthless', why: expect.stringMatching(/already paid this job 2000 .* adds nothing/) });
    expect(why(v, { chain: { deposit: 10_000n, paid: 1500n } })).toMatchObject({ kind: 'worthless' });
    expect(checkVoucher(v, facts(v, { chain: { deposit: 10_000n, paid: 1499n } })).counted?.value).toBe(1n);
  });

  it("refuses a voucher the buyer's deposit does not cover, counting what its other vouchers held here still promise", async () => {
    const v = await voucher(buyer, { amount: 5000n });
    expect(why(v, { chain: { deposit: 3999n, paid: 1000n } })).toMatchObject({ kind: 'uncovered', why: expect.stringMatching(/deposit \(3999\) does not cover the 4000/) });
    expect(why(v, { chain: { deposit: 4000n, paid: 1000n } })).toBeNull();
    expect(why(v, { chain: { deposit: 4000n, paid: 1000n }, owedElsewhere: 1n })).toMatchObject({ kind: 'uncovered', why: expect.stringMatching(/plus the 1 its other vouchers/) });
  });

  it('counts nothing while the chain cannot be read', async () => {
    expect(why(await voucher(buyer), { chain: null })).toMatchObject({ kind: 'chain-unreadable' });
  });
});

describe('whether a voucher pays its job up to date', () => {
  const base = { amount: 1000n, expiry: NOW + 86_400, nowSec: NOW, paidBefore: 0n, minAmount: 800n };
  it('pays when it covers the usage and leaves time to redeem', () => {
    expect(jobPaymentProblem(base)).toBeNull();
    expect(jobPaymentProblem({ ...base, amount: 799n })).toMatch(/pays this job 799 base units, less than the 800/);
    expect(jobPaymentProblem({ ...base, expiry: NOW + MIN_VOUCHER_LIFETIME_S - 1 })).toMatch(/expires too soon/);
    expect(jobPaymentProblem({ ...base, expiry: NOW - 1 })).toMatch(/expires already/);
  });

  it("a reused job id: what the channel was paid before the job pays none of the new job's work", () => {
    expect(jobPaymentProblem({ ...base, paidBefore: 2000n, amount: 1500n })).toMatch(/already paid this job id 2000 .* pays nothing of this job's work/);
    expect(jobPaymentProblem({ ...base, paidBefore: 2000n, amount: 2500n })).toMatch(/pays this job 500 base units \(the first 2000 of its 2500 were paid before this job\), less than the 800/);
    expect(jobPaymentProblem({ ...base, paidBefore: 2000n, amount: 2800n })).toBeNull();
  });
});
