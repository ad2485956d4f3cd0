/**
 * Deep merge for settings layers. Plain objects merge field by field; arrays and scalars are
 * replaced whole (a list of windows or apps is one value). `undefined` never overrides.
 */
export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

export function deepMerge<T>(base: T, ...patches: readonly unknown[]): T {
  let out: unknown = base;
  for (const patch of patches) out = mergeTwo(out, patch);
  return out as T;
}

function mergeTwo(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (!isPlainObject(patch) || !isPlainObject(base)) return clone(patch);
  const out: PlainObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    out[key] = mergeTwo(base[key], value);
  }
  return out;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/** Dotted paths of the leaves a patch sets: `{ idle: { minutes: 5 } }` → `["idle.minutes"]`. */
export function leafPaths(patch: unknown, prefix = ''): string[] {
  if (!isPlainObject(patch)) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) out.push(...leafPaths(value, path));
    else out.push(path);
  }
  return out;
}

/** Whether `path` is locked by any of `locked` (the same leaf, or an ancestor/descendant of one). */
export function isLocked(path: string, locked: readonly string[]): boolean {
  return locked.some((l) => l === path || path.startsWith(l + '.') || l.startsWith(path + '.'));
}
