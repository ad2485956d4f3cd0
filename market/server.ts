/**
 * The reference market's transport: HTTP and WebSocket on 127.0.0.1. Providers dial
 * /v1/provider, buyers /v1/buyer; GET /v1/jobs and /v1/providers read what the market sees.
 * Every frame is parsed with the shared protocol module; the first exchange (hello → challenge →
 * sign-in → welcome) happens here, the rest in market.ts. Nothing a peer sends can crash it.
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { getAddress } from 'ethers';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { silentLogger, type Logger } from '../runtime/log.js';
import { parseMessage } from '../runtime/market/frames.js';
import {
  buyerMessageSchema,
  DEFAULT_OFFER_TTL_MS,
  MAX_MALFORMED_IN_A_ROW,
  MAX_MESSAGE_BYTES,
  NONCE_TTL_MS,
  PATHS,
  PROTOCOL_VERSION,
  providerMessageSchema,
  SUPPORTED_VERSIONS,
  type Role,
} from '../runtime/market/protocol.js';
import { Market, type BuyerSession, type Peer } from './market.js';
import { checkSignIn, NonceBook, type Challenge } from './sign-in.js';
import { MarketStore } from './store.js';

export interface MarketOptions {
  /** 0 (default): a free port. */
  port?: number;
  /** The SQLite file; default: in memory (jobs are lost when the market stops). */
  dbFile?: string | null;
  chainId: number;
  escrow: string;
  log?: Logger;
  offerTtlMs?: number;
  /** How long a provider that dropped keeps its running jobs in the market's eyes (default 5 min: past the provider's own 2 min grace). */
  providerGraceMs?: number;
  /** Tests shorten it to see an expired nonce refused. */
  nonceTtlMs?: number;
  maxOpenJobsPerBuyer?: number;
  /** How long a job waits for a provider before it ends `expired` (default DEFAULT_QUEUE_TIMEOUT_MS, 1 h). */
  queueTimeoutMs?: number;
}

/** A job no provider takes within this time (from its submission, or from being placed again after a preemption) ends `expired`. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 60 * 60_000;

export interface RunningMarket {
  url: string;
  port: number;
  market: Market;
  close(): Promise<void>;
}

/** A writer that stops reading is cut off rather than buffered without end. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const HOST_HEADER = /^[A-Za-z0-9.\-:[\]]{1,255}$/;

/** Default --db: a file in the temp folder would outlive nothing useful, so memory it is. */
export function defaultDbFile(): string {
  return ':memory:';
}

export async function startMarket(options: MarketOptions): Promise<RunningMarket> {
  const log = options.log ?? silentLogger;
  const escrow = getAddress(options.escrow.toLowerCase());
  const chainId = options.chainId;
  const dbFile = options.dbFile ?? defaultDbFile();
  const store = new MarketStore(dbFile === ':memory:' ? dbFile : path.resolve(dbFile.replace(/^~(?=$|\/)/, os.homedir())));
  const market = new Market(store, {
    chainId,
    escrow,
    offerTtlMs: options.offerTtlMs ?? DEFAULT_OFFER_TTL_MS,
    providerGraceMs: options.providerGraceMs ?? 5 * 60_000,
    maxOpenJobsPerBuyer: options.maxOpenJobsPerBuyer ?? 20_000,
    endedLingerMs: 10 * 60_000,
    queueTimeoutMs: options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    log,
  });
  const nonces = new NonceBook(options.nonceTtlMs ?? NONCE_TTL_MS);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });

  const server = http.createServer((req, res) => {
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
      if (url.pathname === '/v1' || url.pathname === '/') return send(200, { name: 'offshift-reference-market', versions: SUPPORTED_VERSIONS, chainId, escrow, paths: PATHS });
      return send(404, { code: 'not-found', message: `Nothing at ${url.pathname.slice(0, 200)}: try ${PATHS.jobs} or ${PATHS.providers}.` });
    } catch (error) {
      log.warn('market http request failed', { error });
      if (!res.headersSent) send(400, { code: 'bad-request', message: 'The request could not be read.' });
      else res.destroy();
    }
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let role: Role | null;
    let pathname = '';
    try {
      pathname = new URL(req.url ?? '/', 'http://market.invalid').pathname;
      role = pathname === PATHS.provider ? 'provider' : pathname === PATHS.buyer ? 'buyer' : null;
    } catch {
      role = null;
    }
    if (!role) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const theRole = role;
    try {
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, theRole, pathname));
    } catch {
      socket.destroy();
    }
  });

  function onConnection(ws: WebSocket, req: http.IncomingMessage, role: Role, pathname: string): void {
    const hostHeader = req.headers.host ?? '';
    const host = HOST_HEADER.test(hostHeader) ? hostHeader : `127.0.0.1:${port}`;
    let state: 'hello' | 'sign-in' | 'ready' | 'closed' = 'hello';
    let challenge: Challenge | null = null;
    let malformed = 0;
    let address: string | null = null;
    let session: BuyerSession | null = null;

    const send = (message: object) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        close(1013, 'too slow: messages are piling up');
        return;
      }
      ws.send(JSON.stringify(message));
    };
    const close = (code: number, reason: string) => {
      if (state === 'closed') return;
      state = 'closed';
      clearTimeout(signInTimer);
      ws.close(code, reason.slice(0, 120));
      // A peer that never answers the close handshake is cut off.
      setTimeout(() => ws.terminate(), 2000).unref();
    };
    const peer: Peer<never> = { send, close };
    const bad = (code: string, message: string, ref?: string) => {
      malformed += 1;
      send({ type: 'error', code, message, ...(ref ? { ref } : {}) });
      if (malformed >= MAX_MALFORMED_IN_A_ROW) close(1008, `${MAX_MALFORMED_IN_A_ROW} malformed messages in a row`);
    };
    const signInTimer = setTimeout(() => {
      if (state === 'hello' || state === 'sign-in') {
        send({ type: 'error', code: 'sign-in-timeout', message: 'No sign-in in time: reconnect.' });
        close(1008, 'no sign-in in time');
      }
    }, (options.nonceTtlMs ?? NONCE_TTL_MS) + 5000);

    ws.on('error', (error) => log.debug('market socket error', { error }));
    ws.on('close', () => {
      state = 'closed';
      clearTimeout(signInTimer);
      if (address && role === 'provider') market.providerGone(address, peer);
      if (session) market.buyerGone(session);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (state === 'closed') return;
      try {
        const parsed = role === 'provider' ? parseMessage(providerMessageSchema, data, isBinary) : parseMessage(buyerMessageSchema, data, isBinary);
        if (!parsed.ok) return bad(parsed.code, parsed.message);
        const msg = parsed.message;
        if (state === 'hello') {
          if (msg.type !== 'hello') return bad('hello-first', 'Say hello first: { "type": "hello", "versions": [1], "role": … }.');
          if (msg.role !== role) return bad('wrong-role', `This is the ${role} endpoint; ${msg.role}s dial ${PATHS[msg.role]}.`);
          if (!msg.versions.includes(PROTOCOL_VERSION)) {
            send({ type: 'error', code: 'unsupported-version', message: `This market speaks protocol versions ${SUPPORTED_VERSIONS.join(', ')}; you offered ${msg.versions.join(', ')}. Update the agent.` });
            return close(1002, 'unsupported version');
          }
          malformed = 0;
          challenge = nonces.issue(host, `ws://${host}${pathname}`, chainId);
          state = 'sign-in';
          return send(challenge);
        }
        if (state === 'sign-in') {
          if (msg.type !== 'sign-in' || !challenge) return bad('sign-in-first', 'Answer the challenge with a sign-in first.');
          const result = checkSignIn({ message: msg.message, signature: msg.signature, challenge, role, nonces });
          if (!result.ok) {
            send({ type: 'error', code: 'sign-in-refused', message: result.reason });
            log.info('sign-in refused', { role, reason: result.reason });
            return close(1008, 'sign-in refused');
          }
          malformed = 0;
          clearTimeout(signInTimer);
          state = 'ready';
          address = result.address;
          send({ type: 'welcome', address, session: `s${Math.random().toString(36).slice(2, 14)}`, chainId, escrow });
          if (role === 'provider') market.providerConnected(address, peer);
          else session = market.buyerConnected(address, peer);
          return;
        }
        const problem = role === 'provider' ? market.fromProvider(address!, peer, msg as never) : market.fromBuyer(session!, msg as never);
        if (problem) return bad(problem.code, problem.message, problem.ref);
        malformed = 0;
      } catch (error) {
        // A bug of ours, never the peer's doing: answered, logged, and the market goes on.
        log.error('market failed on a message', { role, error });
        bad('internal', 'The market could not handle that message.');
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `ws://127.0.0.1:${port}`;
  log.info('market listening', { url, chainId, escrow, db: dbFile });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    market,
    close() {
      closing ??= (async () => {
        market.close();
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        store.close();
      })();
      return closing;
    },
  };
}
