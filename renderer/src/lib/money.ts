/** Token amounts for display: base units (decimal strings) to exact token decimals, and back. */

export function formatTokens(units: string, decimals: number, maxFraction = decimals): string {
  const negative = units.startsWith('-');
  const digits = (negative ? units.slice(1) : units).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let frac = digits.slice(digits.length - decimals, digits.length - decimals + maxFraction).replace(/0+$/, '');
  if (frac === '' && maxFraction < decimals && /[1-9]/.test(digits.slice(digits.length - decimals)) && whole === '0') frac = '0'.repeat(maxFraction - 1) + '1';
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** "12.5" → base units; null when it is not a plain decimal with at most `decimals` places. */
export function parseTokens(text: string, decimals: number): string | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > decimals) return null;
  const units = (m[1]! + frac.padEnd(decimals, '0')).replace(/^0+(?=\d)/, '');
  return units;
}

export function shortHash(hash: string): string {
  return hash.length > 14 ? `${hash.slice(0, 8)}…${hash.slice(-6)}` : hash;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
