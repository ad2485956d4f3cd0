import { describe, expect, it } from 'vitest';
import { parseTokens } from '../../../renderer/src/lib/money.js';
import { formatTokens } from '../../../runtime/ledger/tokens.js';

describe('parseTokens (amounts the owner types on the Wallet and Marketplace pages)', () => {
  it('reads plain decimals to base units', () => {
    expect(parseTokens('12.5', 18)).toBe('12500000000000000000');
    expect(parseTokens('0.000001', 6)).toBe('1');
    expect(parseTokens(' 3 ', 2)).toBe('300');
  });

  it('reads back what the pages show grouped: a price of 1,000 tokens or more round-trips', () => {
    for (const units of ['1000000000000000000000', '1234567890000000000000000', '999000000000000000']) {
      const shown = formatTokens(units, 18, { grouped: true });
      expect(parseTokens(shown, 18)).toBe(units);
    }
    expect(parseTokens('1,200.5', 1)).toBe('12005');
  });

  it('refuses what is not an amount', () => {
    for (const bad of ['', 'abc', '1,00', '12,3456', '1.2.3', '-1', '1e3', ',100', '1.123']) expect(parseTokens(bad, 2)).toBeNull();
  });
});
