import { Wallet, hexlify, randomBytes, type Contract } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depositToEscrow, escrowContract, tokenContract, tokens } from '../../../runtime/chain/deploy.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import type { VoucherData } from '../../../runtime/wallet/schema.js';
import { mined } from '../../../runtime/chain/provider.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';

/** The escrow on a real anvil chain: each way a voucher pays, and each way it is refused. */
describe('OffshiftEscrow on anvil', () => {
  let chain: TestChain;
  let provider: Wallet;
  let escrow: Contract;
  let token: Contract;

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    provider = Wallet.createRandom(chain.provider) as unknown as Wallet;
    await chain.fund(provider.address);
    escrow = escrowContract(chain.escrow, provider);
    token = tokenContract(chain.token, chain.provider);
  });
  afterAll(async () => chain?.stop());

  const jobId = () => hexlify(randomBytes(32));
  async function voucher(over: Partial<VoucherData> = {}, signer: Wallet = chain.buyer) {
    const data: VoucherData = {
      buyer: chain.buyer.address,
      provider: provider.address,
      jobId: jobId(),
      cumulativeAmount: tokens(10).toString(),
      expiry: (await chain.now()) + 3600,
      ...over,
    };
    return signVoucher(signer, chain.chainId, chain.escrow, data);
  }
  const asStruct = (v: VoucherData) => ({ ...v, cumulativeAmount: BigInt(v.cumulativeAmount), expiry: BigInt(v.expiry) });
  const redeem = async (s: Awaited<ReturnType<typeof voucher>>) => mined(await escrow.getFunction('redeem')(asStruct(s.voucher), s.signature));
  const revertName = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      const data = (error as { data?: string }).data;
      return data ? escrow.interface.parseError(data)?.name : String(error);
    }
    return 'no revert';
  };

  it('pays the difference between the cumulative amount and what was paid, once', async () => {
    const id = jobId();
    const before = (await token.getFunction('balanceOf')(provider.address)) as bigint;
    const first = await voucher({ jobId: id, cumulativeAmount: tokens(3).toString() });
    const receipt = await redeem(first);
    const event = receipt.logs.map((l) => escrow.interface.parseLog(l)).find((e) => e?.name === 'Redeemed')!;
    expect(event.args.amount).toBe(tokens(3));
    expect(event.args.cumulative).toBe(tokens(3));
    expect(event.args.buyer).toBe(chain.buyer.address);
    expect(event.args.provider).toBe(provider.address);
    expect(event.args.jobId).toBe(id);

    const second = await voucher({ jobId: id, cumulativeAmount: tokens(5).toString() });
    await redeem(second);
    expect((await token.getFunction('balanceOf')(provider.address)) - before).toBe(tokens(5));
    expect(await escrow.getFunction('paid')(chain.buyer.address, provider.address, id)).toBe(tokens(5));

    // Submitting either voucher again pays nothing more and says why.
    expect(await revertName(escrow.getFunction('redeem').staticCall(asStruct(second.voucher), second.signature))).toBe('AlreadyRedeemed');
    expect(await revertName(escrow.getFunction('redeem').staticCall(asStruct(first.voucher), first.signature))).toBe('AlreadyRedeemed');
    expect((await token.getFunction('balanceOf')(provider.address)) - before).toBe(tokens(5));
  });

  it('the contract digest is the EIP-712 digest the buyer signed', async () => {
    const s = await voucher();
    const { TypedDataEncoder } = await import('ethers');
    const { voucherDomain, VOUCHER_TYPES } = await import('../../../runtime/wallet/voucher.js');
    const local = TypedDataEncoder.hash(voucherDomain(chain.chainId, chain.escrow), VOUCHER_TYPES, asStruct(s.voucher));
    expect(await escrow.getFunction('voucherDigest')(asStruct(s.voucher))).toBe(local);
  });

  it('refuses a voucher signed by anyone but the buyer', async () => {
    const s = await voucher({}, Wallet.createRandom() as unknown as Wallet);
    expect(await revertName(redeem(s))).toBe('InvalidSignature');
  });

  it('refuses a voucher with an altered field', async () => {
    const s = await voucher();
    for (const altered of [
      { ...s.voucher, cumulativeAmount: tokens(11).toString() },
      { ...s.voucher, jobId: jobId() },
      { ...s.voucher, expiry: s.voucher.expiry + 1 },
      { ...s.voucher, provider: chain.deployer.address },
    ]) {
      expect(await revertName(redeem({ voucher: altered, signature: s.signature }))).toBe('InvalidSignature');
    }
  });

  it('refuses an expired voucher', async () => {
    const s = await voucher({ expiry: (await chain.now()) + 10 });
    await chain.advance(60);
    expect(await revertName(redeem(s))).toBe('VoucherExpired');
  });

  it("refuses more than the buyer's deposit", async () => {
    const available = (await escrow.getFunction('deposits')(chain.buyer.address)) as bigint;
    const s = await voucher({ cumulativeAmount: (available + 1n).toString() });
    expect(await revertName(redeem(s))).toBe('InsufficientDeposit');
  });

  it('lets the buyer withdraw unspent funds only after the notice period, and providers redeem meanwhile', async () => {
    const buyerEscrow = escrowContract(chain.escrow, chain.buyer);
    const available = (await escrow.getFunction('deposits')(chain.buyer.address)) as bigint;
    expect(await revertName(buyerEscrow.getFunction('withdraw')())).toBe('NoWithdrawalRequested');
    await mined(await buyerEscrow.getFunction('requestWithdrawal')(available));
    expect(await revertName(buyerEscrow.getFunction('withdraw')())).toBe('NoticePeriodNotOver');
    // During the notice, a provider still redeems what it was promised.
    await redeem(await voucher({ cumulativeAmount: tokens(1).toString() }));
    await chain.advance(chain.noticePeriod + 1);
    const before = (await token.getFunction('balanceOf')(chain.buyer.address)) as bigint;
    const receipt = await mined(await buyerEscrow.getFunction('withdraw')());
    expect(receipt.logs.map((l) => escrow.interface.parseLog(l)?.name)).toContain('Withdrawn');
    expect((await token.getFunction('balanceOf')(chain.buyer.address)) - before).toBe(available - tokens(1));
    expect(await escrow.getFunction('deposits')(chain.buyer.address)).toBe(0n);
  });

  describe('a PayeeVoucher (the payout address)', () => {
    const payeeStruct = (v: VoucherData) => ({ buyer: v.buyer, provider: v.provider, payee: v.payee!, jobId: v.jobId, cumulativeAmount: BigInt(v.cumulativeAmount), expiry: BigInt(v.expiry) });
    const balance = async (a: string) => (await token.getFunction('balanceOf')(a)) as bigint;
    // The withdrawal test above may have taken the buyer's deposit back.
    beforeAll(async () => depositToEscrow(chain.buyer, chain.token, chain.escrow, tokens(100)));

    it('pays the payee whoever submits it, shares its channel with v1 vouchers, and its digest is the one the buyer signed', async () => {
      const payee = Wallet.createRandom().address;
      const id = jobId();
      const s = await voucher({ jobId: id, payee, cumulativeAmount: tokens(4).toString() });
      const { TypedDataEncoder } = await import('ethers');
      const { voucherDomain, PAYEE_VOUCHER_TYPES } = await import('../../../runtime/wallet/voucher.js');
      expect(await escrow.getFunction('payeeVoucherDigest')(payeeStruct(s.voucher))).toBe(TypedDataEncoder.hash(voucherDomain(chain.chainId, chain.escrow), PAYEE_VOUCHER_TYPES, payeeStruct(s.voucher)));
      const providerBefore = await balance(provider.address);
      // Submitted by a stranger: the money still goes to the payee.
      const stranger = Wallet.createRandom(chain.provider) as unknown as Wallet;
      await chain.fund(stranger.address);
      const receipt = await mined(await escrowContract(chain.escrow, stranger).getFunction('redeemToPayee')(payeeStruct(s.voucher), s.signature));
      const events = receipt.logs.map((l) => escrow.interface.parseLog(l)).filter((e) => e !== null);
      expect(events.find((e) => e.name === 'PaidTo')!.args.toObject()).toMatchObject({ buyer: chain.buyer.address, provider: provider.address, jobId: id, payee, amount: tokens(4) });
      expect(events.find((e) => e.name === 'Redeemed')!.args.toObject()).toMatchObject({ amount: tokens(4), cumulative: tokens(4) });
      expect(await balance(payee)).toBe(tokens(4));
      expect(await balance(provider.address)).toBe(providerBefore);
      // One channel: a v1 voucher for the same job pays only beyond what the payee got.
      const v1 = await voucher({ jobId: id, cumulativeAmount: tokens(4).toString() });
      expect(await revertName(escrow.getFunction('redeem').staticCall(asStruct(v1.voucher), v1.signature))).toBe('AlreadyRedeemed');
    });

    it('a stolen machine key cannot move the earnings: not to itself, not to another payee', async () => {
      const payee = Wallet.createRandom().address;
      const s = await voucher({ payee });
      // The provider's own key submits the same fields as a v1 voucher (paid to the provider): the signature is not the buyer's for that.
      const { payee: _payee, ...asV1 } = s.voucher;
      expect(await revertName(escrow.getFunction('redeem').staticCall(asStruct(asV1), s.signature))).toBe('InvalidSignature');
      // Or names itself as the payee.
      expect(await revertName(escrow.getFunction('redeemToPayee').staticCall(payeeStruct({ ...s.voucher, payee: provider.address }), s.signature))).toBe('InvalidSignature');
      expect(await revertName(escrow.getFunction('redeemToPayee').staticCall(payeeStruct({ ...s.voucher, payee: '0x0000000000000000000000000000000000000000' }), s.signature))).toBe('ZeroPayee');
      await mined(await escrow.getFunction('redeemToPayee')(payeeStruct(s.voucher), s.signature));
      expect(await balance(payee)).toBe(tokens(10));
    });
  });
});
