import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline, type Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Dispatch } from '../dispatcher.js';
import type { EventBus } from '../events.js';
import { silentLogger, type Logger } from '../../log.js';
import type { ServerMessage } from '../protocol.js';
import { tokensEqual } from '../token.js';
import { serveConnection } from './serve-connection.js';
import { UnauthenticatedSockets } from './unauthenticated.js';

export const API_PATH = '/api';
export const API_SUBPROTOCOL = 'offshift';
/** Browsers cannot set headers on a WebSocket, so the token travels as a second subprotocol. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'token.';

export interface WebSocketServerOptions {
  dispatch: Dispatch;
  bus: EventBus;
  token: string;
  /** 0 picks a free port. */
  port: number;
  /** The built dashboard (index.html and assets); null serves an explanation instead. */
  staticDir: string | null;
  /** Extra origins allowed to connect (e.g. a Vite dev server). */
  extraOrigins?: string[];
  /** Refusals worth knowing about (a dropped client, too many connections). */
  log?: Logger;
}

export interface RunningServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Bounds on what clients may cost the agent (each refusal is answered, never a crash). */
export const SERVER_LIMITS = {
  /** One WebSocket message (a frame or a fragmented message), bytes. */
  maxPayload: 1024 * 1024,
  /** Open WebSocket connections; more are refused with 503. */
  maxConnections: 32,
  /** Bytes queued to a client that does not read its events: over this it is dropped. */
  maxBufferedBytes: 8 * 1024 * 1024,
  /**
   * Sockets that are not an authenticated WebSocket (a request on its way, a page load, an idle
   * keep-alive). At this count the oldest of them is closed to make room for a new one, so a
   * flood of slow sockets (slowloris) cannot keep the owner out: the newest socket is always
   * served, and the token's WebSockets have their own slots (maxConnections) beside these.
   */
  maxUnauthenticatedSockets: 128,
  /** Open TCP connections in all: a backstop above the two pools (never reached while they hold). */
  maxSockets: 128 + 32 + 16,
  /** A request's headers must arrive within this. */
  headersTimeoutMs: 10_000,
};

/**
 * The headless agent's API and dashboard: HTTP on 127.0.0.1 only. The dashboard's files are
 * public (they hold no secret); the WebSocket at /api needs the token, the `offshift`
 * subprotocol and a same-origin page. Every request is hostile: a malformed one is answered
 * with a 4xx, a client that floods or does not read is bounded or dropped.
 */
export async function startWebSocketServer(options: WebSocketServerOptions): Promise<RunningServer> {
  const log = options.log ?? silentLogger;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: SERVER_LIMITS.maxPayload,
    handleProtocols: (protocols) => (protocols.has(API_SUBPROTOCOL) ? API_SUBPROTOCOL : false),
  });
  let port = options.port;

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, ...(options.extraOrigins ?? [])]);

  const server = http.createServer({ connectionsCheckingInterval: 2000, headersTimeout: SERVER_LIMITS.headersTimeoutMs, requestTimeout: SERVER_LIMITS.headersTimeoutMs * 3 }, (req, res) => {
    res.on('error', () => req.socket.destroy());
    // A flood evicts this socket last while its answer is on the way.
    unauthenticated.answeringOn(req.socket);
    res.once('close', () => unauthenticated.done(req.socket));
    try {
      serveStatic(options.staticDir, req, res, allowedHosts());
    } catch (error) {
      log.warn('a dashboard request failed', { error });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });
  // A client that never finishes its request is cut off within seconds of the timeout; a flood
  // of them makes room for newer sockets (unauthenticated.ts).
  server.maxConnections = SERVER_LIMITS.maxSockets;
  const unauthenticated = new UnauthenticatedSockets(SERVER_LIMITS.maxUnauthenticatedSockets, log);
  server.on('connection', (socket) => {
    // A peer that resets mid-request must not become an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    unauthenticated.add(socket);
  });

  const attach = (ws: WebSocket) => attachClient(ws, options.dispatch, options.bus, log);
  const upgrade: UpgradeContext = { wss, token: options.token, allowedHosts, allowedOrigins, unauthenticated, log, attach };
  server.on('upgrade', (req, socket, head) => handleUpgrade(upgrade, req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error('the API server failed', { error }));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;

  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What an upgrade request is checked against, and where an accepted one goes. */
interface UpgradeContext {
  wss: WebSocketServer;
  token: string;
  allowedHosts: () => Set<string>;
  allowedOrigins: () => Set<string>;
  unauthenticated: UnauthenticatedSockets;
  log: Logger;
  attach: (ws: WebSocket) => void;
}

/** An upgrade to the WebSocket at /api: the Host, the path, the Origin, the token, the subprotocol and the room left, in this order. */
function handleUpgrade(ctx: UpgradeContext, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  // After 'upgrade' Node no longer listens for this socket's errors: a reset would crash the agent.
  socket.on('error', () => socket.destroy());
  const reject = (status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  if (!ctx.allowedHosts().has(req.headers.host ?? '')) return reject(403, 'Forbidden');
  if (requestPath(req.url) !== API_PATH) return reject(404, 'Not Found');
  const origin = req.headers.origin;
  if (origin !== undefined && !ctx.allowedOrigins().has(origin)) return reject(403, 'Forbidden');
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const presented = protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  if (!presented || !tokensEqual(presented, ctx.token)) return reject(401, 'Unauthorized');
  if (!protocols.includes(API_SUBPROTOCOL)) return reject(400, 'Bad Request');
  if (ctx.wss.clients.size >= SERVER_LIMITS.maxConnections) {
    ctx.log.warn('a WebSocket connection was refused: too many open', { open: ctx.wss.clients.size });
    return reject(503, 'Service Unavailable');
  }
  // The token was right: this socket leaves the pool that a flood may be evicted from.
  ctx.unauthenticated.delete(socket);
  ctx.wss.handleUpgrade(req, socket, head, (ws) => ctx.attach(ws));
}

/** An accepted WebSocket served: requests to the dispatcher, events and answers back, bounded. */
function attachClient(ws: WebSocket, dispatch: Dispatch, bus: EventBus, log: Logger): void {
  let detached = false;
  const send = (message: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > SERVER_LIMITS.maxBufferedBytes) {
      // The client does not read what it is sent: drop it rather than buffer without bound.
      log.warn('dropped a WebSocket client that does not read its messages', { bufferedBytes: ws.bufferedAmount });
      ws.terminate();
      return;
    }
    ws.send(serialize(message));
  };
  const detach = serveConnection(dispatch, bus, send, (handler) =>
    ws.on('message', (data, isBinary) => handler(isBinary ? '' : data.toString())),
  );
  const done = () => {
    if (detached) return;
    detached = true;
    detach();
  };
  ws.on('close', done);
  ws.on('error', () => {
    done();
    ws.terminate();
  });
}

/** A message as JSON; one that cannot be (a bigint, a cycle) becomes an error answer, not a throw. */
function serialize(message: ServerMessage): string {
  try {
    return JSON.stringify(message);
  } catch {
    const id = message.type === 'response' ? message.id : -1;
    return JSON.stringify({ type: 'response', id, ok: false, error: { code: 'internal', message: 'The answer could not be encoded. See the agent log.' } });
  }
}

/**
 * The decoded path of a request target, or null when it is not one (`//[`, `http://[::1`, a
 * malformed percent-encoding such as `/%E0%A4%A`): the caller answers 400.
 */
export function requestPath(target: string | undefined): string | null {
  try {
    return decodeURIComponent(new URL(target ?? '/', 'http://127.0.0.1').pathname);
  } catch {
    return null;
  }
}

function serveStatic(staticDir: string | null, req: http.IncomingMessage, res: http.ServerResponse, hosts: Set<string>): void {
  // Refuse other Host names so a DNS-rebinding page cannot read the dashboard.
  if (!hosts.has(req.headers.host ?? '')) {
    res.writeHead(403).end('Forbidden');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const headers = {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
  const pathname = requestPath(req.url);
  if (pathname === null || pathname.includes('\0')) {
    res.writeHead(400, headers).end();
    return;
  }
  if (!staticDir || !fs.existsSync(path.join(staticDir, 'index.html'))) {
    res.writeHead(503, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('The dashboard is not built. Run `npm run build` (or `npm run agent`, which builds it) and reload.\n');
    return;
  }
  const root = path.resolve(staticDir);
  let file = path.resolve(root, '.' + pathname);
  if (!file.startsWith(root + path.sep) && file !== root) {
    res.writeHead(403, headers).end();
    return;
  }
  if (!isFile(file)) file = path.join(root, 'index.html');
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, { ...headers, 'Content-Type': type });
  if (req.method === 'HEAD') res.end();
  else pipeline(fs.createReadStream(file), res, () => undefined);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
