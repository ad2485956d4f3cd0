/** Hash routing: `#/gpus` → "gpus". Pure. */
export function routeFromHash(hash: string, known: readonly string[], fallback: string): string {
  const path = (hash.startsWith('#') ? hash.slice(1) : hash).split('?')[0] ?? '';
  const id = path.replace(/^\/+/, '').split('/')[0] ?? '';
  return known.includes(id) ? id : fallback;
}

export function hashFor(id: string): string {
  return `#/${id}`;
}
