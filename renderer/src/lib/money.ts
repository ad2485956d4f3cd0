/** Token amounts typed by the owner, to base units (formatTokens, the other way, is runtime/ledger/tokens.ts); hashes and durations for display. */

/**
 * "12.5" or "1,200.5" → base units; null when it is not a plain decimal with at most `decimals`
 * places. Thousands commas are accepted because the pages show amounts grouped, and a shown
 * value typed back (or left as it was) must parse.
 */
export function parseTokens(text: string, decimals: number): string | null {
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > decimals) return null;
  const units = (m[1]!.replaceAll(',', '') + frac.padEnd(decimals, '0')).replace(/^0+(?=\d)/, '');
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
