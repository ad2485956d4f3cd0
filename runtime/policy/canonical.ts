/**
 * Canonical JSON, the exact text a policy signer signs: object keys sorted (by UTF-16 code
 * units, as Array.prototype.sort does), no whitespace, JSON.stringify's own strings and numbers.
 * Pure. Values JSON cannot carry (undefined, functions, NaN, Infinity) are refused, not dropped,
 * so the signer and the agent can never disagree on what was signed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON cannot hold ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}
