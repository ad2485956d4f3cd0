/**
 * The /metrics listener: plain HTTP on the address the admin chose, each scrape with the bearer
 * token (401 without it). Serves nothing else.
 */
import http from 'node:http';
import { AppError } from '../errors.js';
import { CONTENT_TYPE } from './exposition.js';
import { bearerMatches } from './token.js';

export interface Listener {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:([0-9]{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new AppError('invalid-input', `"${listen}" is not HOST:PORT: give e.g. 127.0.0.1:9464 (0.0.0.0:9464 to be scraped from the LAN).`);
  return { host: m[1]!, port };
}

export function startListener(listen: string, token: string, render: () => Promise<string>): Promise<Listener> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
      return;
    }
    if (!bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="offshift metrics"' }).end('Send the token in the metrics-token file of the agent\'s data folder: Authorization: Bearer <token>.\n');
      return;
    }
    render().then(
      (body) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`The metrics could not be gathered: ${(error as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new AppError('unavailable', `The metrics listener cannot listen on ${listen}: ${error.code === 'EADDRINUSE' ? 'the port is in use; choose another with offshift metrics config --listen' : error.message}.`)),
    );
    server.listen(port, host, () => {
      const a = server.address();
      resolve({
        address: { host, port: typeof a === 'object' && a ? a.port : port },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
