/** The EIP-712 voucher: its domain, its type, signing (the buyer's side) and checking (ours). */
import { verifyTypedData, type Signer, type TypedDataDomain } from 'ethers';
import { checksummed } from '../chain/checksum.js';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { readSmallFile } from '../storage/small-file.js';
import { signedVoucherSchema, type SignedVoucher, type VoucherData } from './schema.js';

export const VOUCHER_TYPES = {
  Voucher: [
    { name: 'buyer', type: 'address' },
    { name: 'provider', type: 'address' },
    { name: 'jobId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint256' },
    { name: 'expiry', type: 'uint64' },
  ],
};

/** The escrow's PayeeVoucher: the same fields and a payee, who is paid whoever redeems it. */
export const PAYEE_VOUCHER_TYPES = {
  PayeeVoucher: [
    { name: 'buyer', type: 'address' },
    { name: 'provider', type: 'address' },
    { name: 'payee', type: 'address' },
    { name: 'jobId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint256' },
    { name: 'expiry', type: 'uint64' },
  ],
};

/** Where the voucher's money goes: its payee, else the provider. */
export function voucherPayee(v: VoucherData): string {
  return checksummed(v.payee ?? v.provider);
}

/** The escrow function that redeems it: `redeemToPayee` for a voucher naming a payee. */
export function redeemFunction(v: VoucherData): 'redeem' | 'redeemToPayee' {
  return v.payee === undefined ? 'redeem' : 'redeemToPayee';
}

function typesOf(v: VoucherData) {
  return v.payee === undefined ? VOUCHER_TYPES : PAYEE_VOUCHER_TYPES;
}

export function voucherDomain(chainId: number, escrow: string): TypedDataDomain {
  return { name: 'OffshiftEscrow', version: '1', chainId, verifyingContract: checksummed(escrow) };
}

/** The struct as the contract takes it (a PayeeVoucher's when it names a payee). */
export function contractVoucher(v: VoucherData) {
  const common = { buyer: checksummed(v.buyer), provider: checksummed(v.provider), jobId: v.jobId.toLowerCase(), cumulativeAmount: BigInt(v.cumulativeAmount), expiry: BigInt(v.expiry) };
  return v.payee === undefined ? common : { buyer: common.buyer, provider: common.provider, payee: checksummed(v.payee), jobId: common.jobId, cumulativeAmount: common.cumulativeAmount, expiry: common.expiry };
}

export async function signVoucher(buyer: Signer, chainId: number, escrow: string, voucher: VoucherData): Promise<SignedVoucher> {
  const signature = await buyer.signTypedData(voucherDomain(chainId, escrow), typesOf(voucher), contractVoucher(voucher));
  return { voucher, signature };
}

/** Recovered signers of recent vouchers: a market resends vouchers, and recovery costs about 2 ms. Bounded. */
const recovered = new Map<string, string>();
const MAX_RECOVERED = 4096;

export function recoverVoucherSigner(signed: SignedVoucher, chainId: number, escrow: string): string {
  const v = signed.voucher;
  const key = `${chainId}|${escrow.toLowerCase()}|${v.buyer.toLowerCase()}|${v.provider.toLowerCase()}|${v.payee?.toLowerCase() ?? '-'}|${v.jobId.toLowerCase()}|${v.cumulativeAmount}|${v.expiry}|${signed.signature.toLowerCase()}`;
  const known = recovered.get(key);
  if (known !== undefined) return known;
  let signer: string;
  try {
    signer = verifyTypedData(voucherDomain(chainId, escrow), typesOf(v), contractVoucher(v), signed.signature);
  } catch (error) {
    throw new AppError('voucher-invalid', `The voucher's signature cannot be read (${(error as Error).message}). Ask the buyer for a new voucher.`);
  }
  if (recovered.size >= MAX_RECOVERED) recovered.clear();
  recovered.set(key, signer);
  return signer;
}

/** Parses a voucher (file content or object) with a clear error for each way it can be wrong. */
export function parseVoucher(input: unknown): SignedVoucher {
  const parsed = signedVoucherSchema.safeParse(input);
  if (!parsed.success) throw new AppError('voucher-invalid', `This is not a valid voucher: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function readVoucherFile(file: string): SignedVoucher {
  let text: string;
  try {
    text = readSmallFile(file, 64 * 1024);
  } catch (error) {
    throw new AppError('invalid-input', `Cannot read the voucher file ${file}: ${(error as Error).message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('voucher-invalid', `The voucher file ${file} is not JSON. A voucher file looks like { "voucher": { "buyer", "provider", "payee" (optional), "jobId", "cumulativeAmount", "expiry" }, "signature": "0x…" }.`);
  }
  return parseVoucher(json);
}
