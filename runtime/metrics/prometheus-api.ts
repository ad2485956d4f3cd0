/** Instant queries through Prometheus' HTTP API (/api/v1/query): what `offshift fleet status` reads. */
import { AppError } from '../errors.js';

export interface VectorSample {
  metric: Record<string, string>;
  /** [Unix seconds, value as text]. */
  value: [number, string];
}

export async function queryVector(baseUrl: string, expr: string, timeoutMs = 10_000): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : baseUrl + '/');
  url.searchParams.set('query', expr);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new AppError('unavailable', `Prometheus at ${baseUrl} did not answer (${(error as Error).message}): check the URL given with --prometheus (e.g. http://prometheus.studio.lan:9090).`);
  }
  const body = (await res.json().catch(() => null)) as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } } | null;
  if (!res.ok || body?.status !== 'success') throw new AppError('unavailable', `Prometheus at ${baseUrl} refused the query ${expr}: ${body?.error ?? `HTTP ${res.status}`}.`);
  if (body.data?.resultType !== 'vector') throw new AppError('unavailable', `Prometheus answered ${expr} with a ${body.data?.resultType ?? 'missing'} result, not a vector.`);
  return body.data.result as VectorSample[];
}
