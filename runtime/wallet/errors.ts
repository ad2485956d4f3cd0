/** Turns what ethers and the escrow throw into errors a person can act on. */
import { Interface } from 'ethers';
import { AppError } from '../errors.js';
import { ESCROW_ABI } from '../chain/abi.js';

const escrowInterface = new Interface(ESCROW_ABI);

function revertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [e.data, e.info?.error?.data, e.error?.data]) if (typeof d === 'string' && d.startsWith('0x') && d.length >= 10) return d;
  return undefined;
}

export function isNetworkError(error: unknown): boolean {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  if (e.code === 'NETWORK_ERROR' || e.code === 'TIMEOUT' || e.code === 'SERVER_ERROR') return true;
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up|network|timeout|EPIPE|other side closed/i.test(`${e.message ?? ''} ${e.cause?.code ?? ''}`);
}

/** A clear AppError for a failed chain call (never echoing the signed transaction). */
export function chainError(error: unknown, rpcUrl: string, doing: string): AppError {
  if (error instanceof AppError) return error;
  const data = revertData(error);
  if (data) {
    let parsed: ReturnType<Interface['parseError']> = null;
    try {
      parsed = escrowInterface.parseError(data);
    } catch {}
    switch (parsed?.name) {
      case 'AlreadyRedeemed':
        return new AppError('already-redeemed', `This voucher was already redeemed: it promises ${parsed.args[0]} base units and ${parsed.args[1]} were already paid for this job, so it pays nothing more.`);
      case 'VoucherExpired':
        return new AppError('voucher-expired', `This voucher expired at ${new Date(Number(parsed.args[0]) * 1000).toISOString()}. Ask the buyer for a new one.`);
      case 'InvalidSignature':
        return new AppError('voucher-invalid', `The voucher's signature is not the buyer's (it was signed by ${parsed.args[0]}, or a field was altered). It cannot be redeemed.`);
      case 'InsufficientDeposit':
        return new AppError('insufficient-deposit', `The buyer's escrow deposit (${parsed.args[0]} base units) does not cover this voucher (${parsed.args[1]} due). Try again after the buyer tops it up.`);
      case 'ZeroProvider':
        return new AppError('voucher-invalid', 'The voucher names no provider.');
      default:
        if (parsed) return new AppError('tx-reverted', `The chain refused to ${doing}: ${parsed.name}.`);
    }
  }
  const e = error as { code?: string; shortMessage?: string; message?: string };
  if (e.code === 'INSUFFICIENT_FUNDS' || /insufficient funds/i.test(e.message ?? '')) {
    return new AppError('insufficient-gas', `Not enough of the native coin to pay the gas to ${doing}. Fund the wallet's address${/127\.0\.0\.1|localhost/.test(rpcUrl) ? ' (`offshift devnet fund ADDRESS`)' : ''}.`);
  }
  if (e.code === 'CALL_EXCEPTION') return new AppError('tx-reverted', `The chain refused to ${doing} (${e.shortMessage ?? 'reverted'}).`);
  if (isNetworkError(error)) return new AppError('rpc-unreachable', `The chain's RPC at ${rpcUrl} did not answer while trying to ${doing}. Check the connection and try again; nothing is lost.`);
  return new AppError('chain-error', `Could not ${doing}: ${e.shortMessage ?? e.message ?? String(error)}`);
}
