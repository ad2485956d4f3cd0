/**
 * Hostile inputs for the fuzz tests (fast-check): wrong types, huge and deeply nested values,
 * prototype-pollution keys, odd Unicode, bad encodings. Every generator is seeded by its caller
 * (FUZZ_SEED=<n> replays a run); `fuzzSeed()` picks one and prints it.
 */
import fc from 'fast-check';

export function fuzzSeed(name: string): number {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'] as const;

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 6, arbitrary: fc.constantFrom('', ' ', '\u0000', '\uD800', '\uFFFF', '../../../etc/passwd', '%00', '%E0%A4%A', '=HYPERLINK("x")', '${jndi:x}', '<script>', 'NaN', '-0', '1e400', 'null', 'sha256:', '0x') },
  // Huge: rarely, or 10,000 inputs would weigh gigabytes.
  { weight: 1, arbitrary: fc.constantFrom(5_000, 66_000, 200_000).map((n) => 'x'.repeat(n)) },
);

const key = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 }), fc.constantFrom('id', 'image', 'command', 'env', 'gpus', 'limit', 'offset', 'password', 'spec', 'inputs'));

/** Any JSON-representable value, hostile in shape and content. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 2 ** 53, -(2 ** 53), 1e308, -1e-308, 0.5),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    hostileString,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map((entries) => objectFrom(entries)),
  ),
})).value;

/** An object with own keys exactly as given (`__proto__` included, as JSON.parse makes it). */
export function objectFrom(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` deep, as JSON text. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export const deepValueText: fc.Arbitrary<string> = fc
  .tuple(fc.oneof({ weight: 200, arbitrary: fc.integer({ min: 50, max: 2000 }) }, { weight: 1, arbitrary: fc.constant(100_000) }), fc.constantFrom('array' as const, 'object' as const))
  .map(([d, k]) => deepJson(d, k));

/** A valid object with one field replaced, added or removed: the near misses that reach deepest. */
export function mutated(base: Record<string, unknown>, fields: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...fields, ...PROTO_KEYS, 'privileged', 'binds'), hostileValue).map(([field, value]) => objectFrom([...Object.entries(base).filter(([k]) => k !== field), [field, value]])),
    fc.constantFrom(...fields).map((field) => objectFrom(Object.entries(base).filter(([k]) => k !== field))),
    fc.tuple(fc.constantFrom(...fields), hostileValue, hostileValue).map(([field, a, b]) => objectFrom([...Object.entries(base), [field, [a, b]]])),
  );
}
