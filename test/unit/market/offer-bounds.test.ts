import { describe, expect, it } from 'vitest';
import { split, SPLIT_LIMIT } from '../../../runtime/ledger/amount.js';
import { amountForSeconds, jobRequestSchema, MAX_JOB_SECONDS, MAX_PRICE_PER_HOUR, readableOfferId } from '../../../protocol/index.js';

const job = (pricePerHour: string) => ({ image: `sha256:${'a'.repeat(64)}`, command: ['x'], pricePerHour });

describe('what an offer may ask', () => {
  it('bounds the price so that the longest job at the highest price is an amount the ledger records', () => {
    const most = amountForSeconds(MAX_JOB_SECONDS, MAX_PRICE_PER_HOUR);
    expect(() => split(most)).not.toThrow();
    // Room for thousands of such jobs in the ledger's sums, not one.
    expect(SPLIT_LIMIT / most).toBeGreaterThan(10_000n);
    expect(jobRequestSchema.safeParse(job(MAX_PRICE_PER_HOUR.toString())).success).toBe(true);
    const over = jobRequestSchema.safeParse(job((MAX_PRICE_PER_HOUR + 1n).toString()));
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.message).toMatch(/at most 1000000000000000000000000 base units an hour/);
    // 10^40, and a huge string, fail fast without parsing it as a number.
    expect(jobRequestSchema.safeParse(job(`1${'0'.repeat(40)}`)).success).toBe(false);
    expect(jobRequestSchema.safeParse(job('9'.repeat(100_000))).success).toBe(false);
  });

  it('reads the offerId of an offer that failed its schema, and nothing else', () => {
    expect(readableOfferId({ type: 'offer', offer: { offerId: 'offer-123456', job: 'garbage' } })).toBe('offer-123456');
    expect(readableOfferId({ type: 'offer', offer: { offerId: 'x' } })).toBeNull();
    expect(readableOfferId({ type: 'offer', offer: { offerId: 'a'.repeat(65) } })).toBeNull();
    expect(readableOfferId({ type: 'voucher', offer: { offerId: 'offer-123456' } })).toBeNull();
    expect(readableOfferId(null)).toBeNull();
    expect(readableOfferId('offer')).toBeNull();
  });
});
