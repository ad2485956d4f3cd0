/**
 * The API token of the headless agent reaches the dashboard in the URL fragment
 * (`http://127.0.0.1:PORT/#token=…`, as `offshift agent` prints it). Fragments never travel to
 * the server and the page removes it from the visible URL at once. Pure: no DOM access.
 */

/** What a token may look like: the agent makes 64 hex characters; anything that can be a subprotocol is accepted. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{8,512}$/;

export type FragmentToken =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'token'; token: string; /** The fragment without the token, e.g. `#/system` or ``. */ rest: string };

/** Reads `token=…` from a location hash such as `#token=abc` or `#/gpus?token=abc&x=1`. */
export function tokenFromFragment(hash: string): FragmentToken {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const queryAt = fragment.indexOf('?');
  let path: string;
  let query: string;
  if (queryAt !== -1) {
    path = fragment.slice(0, queryAt);
    query = fragment.slice(queryAt + 1);
  } else if (!fragment.startsWith('/') && fragment.includes('=')) {
    path = '';
    query = fragment;
  } else {
    return { kind: 'none' };
  }
  const params = new URLSearchParams(query);
  if (!params.has('token')) return { kind: 'none' };
  const token = (params.get('token') ?? '').trim();
  if (!TOKEN_PATTERN.test(token)) return { kind: 'malformed' };
  params.delete('token');
  const remaining = params.toString();
  const rest = path && remaining ? `#${path}?${remaining}` : path ? `#${path}` : remaining ? `#${remaining}` : '';
  return { kind: 'token', token, rest };
}

/** Whether a stored token still looks usable. */
export function isPlausibleToken(token: string | null | undefined): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}
