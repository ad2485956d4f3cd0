/**
 * Token amounts in words: base units to an exact decimal of tokens ("10.5",
 * "0.000000000000000003"), with no floating point anywhere. Pure (the renderer uses it too).
 */

export interface TokenFormat {
  /** Fraction digits shown at most, cut (not rounded); a non-zero amount below 1 that would show as 0 shows the smallest step ("0.0001"). Default: all. */
  maxFraction?: number;
  /** Fraction digits always shown, zeros added ("0.400"). Default: none. */
  minFraction?: number;
  /** Thousands separated by commas ("1,234.5"). */
  grouped?: boolean;
}

/** `units`: base units, as a bigint or its decimal string. */
export function formatTokens(units: bigint | string, decimals: number, format: TokenFormat = {}): string {
  const text = units.toString();
  const negative = text.startsWith('-');
  const digits = (negative ? text.slice(1) : text).padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  const maxFraction = Math.min(format.maxFraction ?? decimals, decimals);
  let whole = digits.slice(0, cut);
  if (format.grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let frac = digits.slice(cut, cut + maxFraction).replace(/0+$/, '');
  if (frac === '' && maxFraction > 0 && maxFraction < decimals && whole === '0' && /[1-9]/.test(digits.slice(cut))) frac = '0'.repeat(maxFraction - 1) + '1';
  frac = frac.padEnd(format.minFraction ?? 0, '0');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
