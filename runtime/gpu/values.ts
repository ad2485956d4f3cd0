/**
 * Reading the values GPU tools print. nvidia-smi and rocm-smi say "N/A", "[Not Supported]",
 * "Requested functionality has been deprecated" and the like where a value is missing; all of
 * those become null, never a crash or a NaN.
 */
const MISSING = new Set([
  '',
  'n/a',
  'na',
  'none',
  'not supported',
  'not available',
  'not found',
  'unknown',
  'unknown error',
  'insufficient permissions',
  'requested functionality has been deprecated',
  'gpu is lost',
  'gpu requires reset',
]);

/** A tool's text value, trimmed; null where the tool says the value is missing. */
export function cleanText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  let text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1).trim();
  const lower = text.toLowerCase();
  if (MISSING.has(lower)) return null;
  // "N/A (Secondary die)" and similar: still missing.
  if (lower.startsWith('n/a ') || lower.startsWith('n/a(')) return null;
  return text;
}

/** The first number in a value such as "19.11 W", "24576 MiB", "(300Mhz)" or "53.0"; null if none. */
export function numberIn(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = cleanText(value);
  if (text === null) return null;
  const match = /-?\d+(?:\.\d+)?/.exec(text);
  if (!match) return null;
  const n = Number(match[0]);
  return Number.isFinite(n) ? n : null;
}

/** An integer value, or null. */
export function intIn(value: unknown): number | null {
  const n = numberIn(value);
  return n === null ? null : Math.trunc(n);
}
