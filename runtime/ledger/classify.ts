/** The pure rule a job's earnings row follows: its amounts split by status, which the SQL triggers add up. */
import { maxBig } from './amount.js';

export type EarningStatus = 'pending' | 'redeemable' | 'redeemed' | 'expired';
export const PARTS = ['earned', 'pending', 'redeemable', 'redeemed', 'expired'] as const;
export type Part = (typeof PARTS)[number];

/** A job's amounts split by status: the pure rule the triggers' totals are made of. */
export function classify(a: { owed: bigint; vouched: bigint; paid: bigint; expiry: number | null }, nowSec: number): { status: EarningStatus; parts: Record<Part, bigint> } {
  const vouched = maxBig(a.vouched, a.paid);
  const pending = a.owed > vouched ? a.owed - vouched : 0n;
  const open = vouched - a.paid;
  const isExpired = open > 0n && a.expiry !== null && a.expiry < nowSec;
  const status: EarningStatus = vouched === 0n ? 'pending' : open === 0n ? 'redeemed' : isExpired ? 'expired' : 'redeemable';
  return {
    status,
    parts: {
      earned: pending + vouched - (isExpired ? open : 0n),
      pending,
      redeemable: isExpired ? 0n : open,
      redeemed: a.paid,
      expired: isExpired ? open : 0n,
    },
  };
}
