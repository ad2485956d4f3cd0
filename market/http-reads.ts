/** What the market answers over plain HTTP: GET /v1/jobs, /v1/providers and /v1 (who it is); nothing is written this way. */
import type http from 'node:http';
import type { Logger } from '../runtime/log.js';
import { PATHS } from '../protocol/index.js';
import type { Market } from './market.js';

export function readsHandler(market: Market, who: { chainId: number; escrow: string; versions: readonly number[] }, log: Logger): http.RequestListener {
  return (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://market.invalid');
      if (req.method !== 'GET') return send(405, { code: 'method-not-allowed', message: 'The market is read with GET; jobs are submitted over the buyer WebSocket.' });
      if (url.pathname === PATHS.jobs) {
        const limit = Math.min(10_000, Math.max(1, Number(url.searchParams.get('limit') ?? 1000) || 1000));
        return send(200, market.jobsView(limit));
      }
      if (url.pathname === PATHS.providers) return send(200, market.providersView());
      if (url.pathname === '/v1' || url.pathname === '/') return send(200, { name: 'offshift-reference-market', versions: who.versions, chainId: who.chainId, escrow: who.escrow, paths: PATHS });
      return send(404, { code: 'not-found', message: `Nothing at ${url.pathname.slice(0, 200)}: try ${PATHS.jobs} or ${PATHS.providers}.` });
    } catch (error) {
      log.warn('market http request failed', { error });
      if (!res.headersSent) send(400, { code: 'bad-request', message: 'The request could not be read.' });
      else res.destroy();
    }
  };
}
