/**
 * One conditional GET of a signed policy URL: If-None-Match with the last ETag (a 304 costs the
 * server nothing), a time limit, and a size limit (a policy is a few kilobytes).
 */
export type FetchedPolicy =
  | { kind: 'not-modified' }
  | { kind: 'document'; json: unknown; etag: string | null }
  /** Served, but not JSON: refused like a bad signature. */
  | { kind: 'unreadable'; why: string; etag: string | null }
  /** Not served (network, DNS, an HTTP error): the applied policy stays. */
  | { kind: 'failed'; why: string };

const MAX_BYTES = 1024 * 1024;

export async function fetchPolicyDocument(url: string, etag: string | null, options: { timeoutMs?: number; fetchImpl?: typeof fetch } = {}): Promise<FetchedPolicy> {
  const doFetch = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      headers: { accept: 'application/json', ...(etag ? { 'if-none-match': etag } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      redirect: 'follow',
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'failed', why: `cannot reach ${url} (${cause?.code ?? cause?.message ?? (error as Error).message})` };
  }
  if (response.status === 304) return { kind: 'not-modified' };
  if (response.status !== 200) {
    await response.body?.cancel();
    return { kind: 'failed', why: `${url} answered HTTP ${response.status}` };
  }
  const served = response.headers.get('etag');
  const text = await response.text();
  if (text.length > MAX_BYTES) return { kind: 'unreadable', why: `the document is larger than ${MAX_BYTES / 1024} KiB`, etag: served };
  try {
    return { kind: 'document', json: JSON.parse(text), etag: served };
  } catch (error) {
    return { kind: 'unreadable', why: `the document is not JSON (${(error as Error).message})`, etag: served };
  }
}
