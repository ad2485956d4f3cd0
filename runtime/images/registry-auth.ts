/**
 * Anonymous access to a registry that wants a token (Docker Hub, ghcr.io, most others): a GET
 * answered 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` is retried once with a
 * token from that realm. Tokens are kept per registry and repository for their lifetime.
 */
import { isLoopbackHost } from './image-ref.js';
import { RegistryFailure } from './registry-errors.js';
import { failureForStatus, httpGet, type Answer, type Endpoint, type HttpOptions } from './registry-http.js';

const TOKEN_CAP = 1024 * 1024;
/** The token spec's lifetime when the realm names none (seconds). */
const DEFAULT_EXPIRES_IN = 60;
const MAX_TOKENS = 256;

const tokens = new Map<string, { authorization: string; expiresAt: number }>();

/** GET `path` of `endpoint`, for `repository`, with a bearer token when the registry asks for one. */
export async function authorizedGet(endpoint: Endpoint, repository: string, path: string, headers: Record<string, string>, http: HttpOptions): Promise<Answer> {
  const url = endpoint.base + path;
  const key = `${endpoint.base} ${repository}`;
  const cached = tokens.get(key);
  if (cached && cached.expiresAt > Date.now()) {
    const answer = await httpGet(url, { ...headers, Authorization: cached.authorization }, http);
    if (answer.status !== 401) return answer;
    await answer.discard();
  }
  tokens.delete(key);
  const answer = await httpGet(url, headers, http);
  if (answer.status !== 401) return answer;
  const challenge = parseChallenge(answer.headers.get('www-authenticate'));
  await answer.discard();
  if (!challenge) return answer;
  const token = await fetchToken(endpoint, repository, challenge, http);
  remember(key, token);
  return httpGet(url, { ...headers, Authorization: token.authorization }, http);
}

/** For tests: forget every token. */
export function forgetTokens(): void {
  tokens.clear();
}

interface Challenge {
  realm: string;
  service?: string;
  scope?: string;
}

/** A Bearer challenge's parameters; null for any other scheme (Basic: a login, which Offshift does not have). */
export function parseChallenge(header: string | null): Challenge | null {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header ?? '');
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  if (!params.realm) return null;
  return { realm: params.realm, service: params.service, scope: params.scope };
}

async function fetchToken(endpoint: Endpoint, repository: string, challenge: Challenge, http: HttpOptions): Promise<{ authorization: string; expiresAt: number }> {
  let realm: URL;
  try {
    realm = new URL(challenge.realm);
  } catch {
    throw new RegistryFailure('bad-answer', `its token service "${challenge.realm}" is not a URL`);
  }
  // A token asked for over plain HTTP could be read on the way: only where the registry itself is plain HTTP or the realm is this machine.
  const plainOk = endpoint.base.startsWith('http:') || isLoopbackHost(realm.host);
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && plainOk)) {
    throw new RegistryFailure('bad-answer', `its token service ${realm.origin} is not HTTPS`);
  }
  if (challenge.service) realm.searchParams.set('service', challenge.service);
  realm.searchParams.set('scope', challenge.scope ?? `repository:${repository}:pull`);

  const answer = await httpGet(realm.toString(), { Accept: 'application/json' }, http);
  if (answer.status !== 200) {
    await answer.discard();
    const failure = failureForStatus(answer.status, `a token for ${repository}`);
    throw new RegistryFailure(failure.kind, `its token service ${realm.host} gave no token (${failure.detail})`);
  }
  const body = await answer.read(TOKEN_CAP, 'token answer');
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw new RegistryFailure('bad-answer', `its token service ${realm.host} answered something that is not JSON`);
  }
  const token = typeof parsed?.token === 'string' && parsed.token ? parsed.token : parsed?.access_token;
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
    throw new RegistryFailure('bad-answer', `its token service ${realm.host} gave no usable token`);
  }
  const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_EXPIRES_IN;
  // Renewed a little early, so that a token does not expire between being taken and being used.
  return { authorization: `Bearer ${token}`, expiresAt: Date.now() + Math.max(expiresIn - 10, expiresIn / 2) * 1000 };
}

function remember(key: string, token: { authorization: string; expiresAt: number }): void {
  const now = Date.now();
  for (const [k, t] of tokens) if (t.expiresAt <= now) tokens.delete(k);
  while (tokens.size >= MAX_TOKENS) tokens.delete(tokens.keys().next().value!);
  tokens.set(key, token);
}
