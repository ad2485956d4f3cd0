/** Vouchers from the market: which count as payment, with real EIP-712 signatures (ethers Wallets). */
import { Wallet, type HDNodeWallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { toJobId } from '../../../runtime/chain/devnet.js';
import { MIN_VOUCHER_LIFETIME_S, voucherProblem, type VoucherExpectation } from '../../../runtime/market/voucher-check.js';
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

async function voucher(signer: Wallet | HDNodeWallet, over: Partial<{ amount: bigint; expiry: number; chainId: number; escrow: string; jobId: string; provider: string }> = {}): Promise<SignedVoucher> {
  return signVoucher(signer, over.chainId ?? CHAIN, over.escrow ?? ESCROW, {
    buyer: buyer.address,
    provider: over.provider ?? provider.address,
    jobId: over.jobId ?? JOB,
    cumulativeAmount: (over.amount ?? 1000n).toString(),
    expiry: over.expiry ?? NOW + 86_400,
  });
}

function expectation(signed: SignedVoucher, over: Partial<VoucherExpectation> = {}): VoucherExpectation {
  return {
    buyer: buyer.address,
    provider: provider.address,
    jobIdBytes32: JOB,
    recoveredSigner: recoverVoucherSigner(signed, CHAIN, ESCROW),
    nowSec: NOW,
    minAmount: 800n,
    chain: { deposit: 10_000n, alreadyPaid: 0n },
    ...over,
  };
}

describe('which vouchers count as payment', () => {
  it('counts a voucher signed by the buyer for this job, chain and escrow, covering the usage, backed by the deposit', async () => {
    const v = await voucher(buyer);
    expect(voucherProblem(v, expectation(v))).toBeNull();
  });

  it('refuses a voucher signed by someone else', async () => {
    const v = await voucher(stranger);
    expect(voucherProblem(v, expectation(v))).toMatch(/not signed by the buyer/);
  });

  it('refuses a voucher signed for another chain or another escrow (it recovers to someone else here)', async () => {
    for (const over of [{ chainId: 1 }, { escrow: OTHER_ESCROW }]) {
      const v = await voucher(buyer, over);
      expect(voucherProblem(v, expectation(v))).toMatch(/another chain or escrow/);
    }
  });

  it('refuses a voucher for too little', async () => {
    const v = await voucher(buyer, { amount: 799n });
    expect(voucherProblem(v, expectation(v))).toMatch(/promises 799 base units, less than the 800/);
  });

  it('refuses a voucher for another job or another provider', async () => {
    const other = await voucher(buyer, { jobId: toJobId('job-43') });
    expect(voucherProblem(other, expectation(other))).toMatch(/another job/);
    const notMine = await voucher(buyer, { provider: stranger.address });
    expect(voucherProblem(notMine, expectation(notMine))).toMatch(/pays 0x/);
  });

  it('refuses a voucher that expires before it could be redeemed', async () => {
    const v = await voucher(buyer, { expiry: NOW + MIN_VOUCHER_LIFETIME_S - 1 });
    expect(voucherProblem(v, expectation(v))).toMatch(/expires too soon/);
    const old = await voucher(buyer, { expiry: NOW - 1 });
    expect(voucherProblem(old, expectation(old))).toMatch(/expires already/);
  });

  it('refuses a voucher the buyer\'s deposit no longer covers (beyond what the channel was already paid)', async () => {
    const v = await voucher(buyer, { amount: 5000n });
    expect(voucherProblem(v, expectation(v, { chain: { deposit: 3000n, alreadyPaid: 1000n } }))).toMatch(/deposit \(3000\) no longer covers the 4000/);
    expect(voucherProblem(v, expectation(v, { chain: { deposit: 4000n, alreadyPaid: 1000n } }))).toBeNull();
  });

  it('does not count a voucher while the chain cannot be read to check the deposit', async () => {
    const v = await voucher(buyer);
    expect(voucherProblem(v, expectation(v, { chain: null }))).toMatch(/chain could not be read/);
  });
});
