/**
 * HTTP to a registry: where its API lives (Docker Hub's is registry-1.docker.io; loopback and
 * mirrors given as http:// are plain HTTP, everything else HTTPS), a GET bounded in time and in
 * the bytes it will read, and every way that can fail as a RegistryFailure.
 */
import { isLoopbackHost, DOCKER_HUB } from './image-ref.js';
import { RegistryFailure } from './registry-errors.js';

export interface Endpoint {
  /** host[:port] as a person and the engine know it, e.g. 'docker.io', '127.0.0.1:5001'. */
  host: string;
  /** Where its /v2/ API lives, e.g. 'https://registry-1.docker.io'. */
  base: string;
}

export interface HttpOptions {
  /** For each request, body included. */
  timeoutMs: number;
  /** The caller's: an abort is passed on as is, never taken for a registry's failure. */
  signal?: AbortSignal;
  fetch: typeof fetch;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The body, refused past `cap` bytes (a hostile registry must not fill the memory). */
  read(cap: number, what: string): Promise<Buffer>;
  /** Drops the body unread (frees the connection). */
  discard(): Promise<void>;
  /** The body as a stream, unbounded (a layer: the caller bounds it by the manifest's size). */
  stream(): AsyncIterable<Uint8Array>;
}

export function originEndpoint(registry: string): Endpoint {
  if (registry === DOCKER_HUB) return { host: DOCKER_HUB, base: 'https://registry-1.docker.io' };
  return { host: registry, base: `${isLoopbackHost(registry) ? 'http' : 'https'}://${registry}` };
}

/** 'host:port', 'http://host:port' or 'https://host:port' (a trailing slash allowed). */
export function mirrorEndpoint(mirror: string): Endpoint {
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(mirror.trim());
  if (!m) throw new RegistryFailure('bad-answer', `"${mirror}" is not a registry address (host:port)`);
  const host = m[2]!;
  const scheme = m[1] ?? (isLoopbackHost(host) ? 'http' : 'https');
  return { host, base: `${scheme}://${host}` };
}

export async function httpGet(url: string, headers: Record<string, string>, http: HttpOptions): Promise<Answer> {
  const timeout = AbortSignal.timeout(http.timeoutMs);
  const signal = http.signal ? AbortSignal.any([timeout, http.signal]) : timeout;
  let res: Response;
  try {
    res = await http.fetch(url, { headers, signal, redirect: 'follow' });
  } catch (error) {
    throw failureOf(error, timeout, http);
  }
  let consumed = false;
  return {
    status: res.status,
    headers: res.headers,
    read: async (cap, what) => {
      consumed = true;
      const length = Number(res.headers.get('content-length') ?? NaN);
      if (length > cap) {
        await res.body?.cancel().catch(() => {});
        throw tooLarge(what, cap);
      }
      try {
        return await readCapped(res, cap, what);
      } catch (error) {
        throw failureOf(error, timeout, http);
      }
    },
    discard: async () => {
      if (consumed) return;
      consumed = true;
      await res.body?.cancel().catch(() => {});
    },
    stream: () => {
      consumed = true;
      const body = res.body;
      return (async function* () {
        if (!body) return;
        try {
          for await (const chunk of body) yield chunk;
        } catch (error) {
          throw failureOf(error, timeout, http);
        }
      })();
    },
  };
}

/** A status other than 200 for `what` (e.g. 'team/app@sha256:…'). */
export function failureForStatus(status: number, what: string): RegistryFailure {
  if (status === 401 || status === 403) return new RegistryFailure('denied', `it asks for a login to read ${what} (${status})`);
  if (status === 404) return new RegistryFailure('not-found', `it has no ${what} (404)`);
  if (status === 429) return new RegistryFailure('rate-limited', `it refused for now: too many requests (429)`);
  if (status >= 500) return new RegistryFailure('server-error', `it answered ${status} (a server error)`);
  return new RegistryFailure('bad-answer', `it answered ${status} for ${what}`);
}

async function readCapped(res: Response, cap: number, what: string): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, cap);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(what: string, cap: number): RegistryFailure {
  return new RegistryFailure('too-large', `its ${what} is larger than ${cap / 1024 / 1024} MiB`);
}

/** A thrown fetch error in words; the caller's own abort passes through unchanged. */
function failureOf(error: unknown, timeout: AbortSignal, http: HttpOptions): unknown {
  if (http.signal?.aborted) return http.signal.reason;
  if (error instanceof RegistryFailure) return error;
  if (timeout.aborted) return new RegistryFailure('timeout', `no answer within ${http.timeoutMs / 1000} s`);
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code ?? (error as { code?: string } | null)?.code ?? '';
  if (code === 'ECONNREFUSED') return new RegistryFailure('unreachable', 'the connection was refused: nothing listens there');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RegistryFailure('unreachable', 'its name does not resolve');
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return new RegistryFailure('unreachable', 'the connection was cut');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new RegistryFailure('unreachable', 'there is no route to it');
  if (/CERT|TLS|SSL|SELF_SIGNED/.test(code)) return new RegistryFailure('unreachable', `its TLS certificate is not trusted (${code})`);
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new RegistryFailure('unreachable', `the request failed (${message})`);
}
