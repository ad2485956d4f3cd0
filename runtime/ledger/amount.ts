/**
 * Exact amounts in SQLite. The record of each amount is a decimal TEXT of base units. Amounts
 * that SQL must add up are also kept split in two INTEGER columns, hi = amount / 10^12 and
 * lo = amount % 10^12, so sums stay exact integers in SQL: a sum of lo columns stays below
 * 2^63 for up to 9.2 million rows (each lo < 10^12), and a sum of hi columns for amounts up to
 * 9.2·10^30 base units in all (9.2 trillion tokens at 18 decimals). Amounts beyond that are
 * refused when recorded (SPLIT_LIMIT), and sums are put back together with BigInt.
 */
import { AppError } from '../errors.js';

export const SPLIT = 10n ** 12n;
export const SPLIT_LIMIT = (2n ** 63n - 1n) * SPLIT;

export function split(amount: bigint): [bigint, bigint] {
  if (amount < 0n || amount >= SPLIT_LIMIT) {
    throw new AppError('amount-out-of-range', `The amount ${amount} base units is outside what the ledger records (0 to ${SPLIT_LIMIT - 1n}).`);
  }
  return [amount / SPLIT, amount % SPLIT];
}

/** hi/lo (or their sums) back to one amount; SQLite sums come back as bigint (safeIntegers) or null. */
export function join(hi: bigint | number | null, lo: bigint | number | null): bigint {
  return BigInt(hi ?? 0) * SPLIT + BigInt(lo ?? 0);
}

export function parseBaseUnits(text: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new AppError('invalid-input', `"${text}" is not an amount in base units (digits only).`);
  return BigInt(text);
}

export const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** hi and lo (as SQLite's exact text) to the amount's decimal digits, without float or BigInt. */
export function joinText(hi: string, lo: string): string {
  return hi === '0' ? lo : hi + lo.padStart(12, '0');
}
