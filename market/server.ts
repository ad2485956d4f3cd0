/**
 * The reference market's transport: HTTP and WebSocket on 127.0.0.1. Providers dial
 * /v1/provider, buyers /v1/buyer; GET /v1/jobs and /v1/providers read what the market sees.
 * Every frame is parsed with the shared protocol module; the first exchange (hello → challenge →
 * sign-in → welcome) happens here, the rest in market.ts. Nothing a peer sends can crash it.
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { getAddress } from 'ethers';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { silentLogger, type Logger } from '../runtime/log.js';
import { MALFORMED_LIMIT, MalformedCounter, parseMessage } from '../protocol/frames.js';
import {
  buyerMessageSchema,
  DEFAULT_OFFER_TTL_MS,
  MAX_MESSAGE_BYTES,
  NONCE_TTL_MS,
  PATHS,
  PROTOCOL_VERSION,
  providerMessageSchema,
  SUPPORTED_VERSIONS,
  type Role,
} from '../protocol/index.js';
import { Market, type BuyerSession, type Peer } from './market.js';
import { challengeSite, checkSignIn, marketIdentity, NonceBook, type Challenge } from './sign-in.js';
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
  /**
   * The URL peers dial (ws:// or wss://, scheme and host only), named in every sign-in challenge;
   * default: ws://127.0.0.1:<port> (and localhost:<port>). Behind a TLS proxy: its wss:// address.
   */
  publicUrl?: string | null;
  /** A connection must be signed in within this time of opening, or it is closed (default SIGN_IN_DEADLINE_MS). */
  signInDeadlineMs?: number;
  /** Connections not yet signed in, per remote address and in all (defaults MAX_UNAUTHENTICATED_PER_ADDRESS, MAX_UNAUTHENTICATED). */
  maxUnauthenticatedPerAddress?: number;
  maxUnauthenticated?: number;
  /** Connections per remote address, signed in or not (default MAX_CONNECTIONS_PER_ADDRESS): signing in with throwaway keys does not get round the limit above. */
  maxConnectionsPerAddress?: number;
}

/** A sign-in takes one round trip and one signature; this leaves room for a slow machine, and no more. */
export const SIGN_IN_DEADLINE_MS = 15_000;
/** Behind a proxy every peer has the proxy's address: raise it there (the proxy limits per client). */
export const MAX_UNAUTHENTICATED_PER_ADDRESS = 64;
export const MAX_UNAUTHENTICATED = 4096;
/** Room for a studio's machines behind one address (and the 1,000-provider benchmark on 127.0.0.1). */
export const MAX_CONNECTIONS_PER_ADDRESS = 2048;

/** A job no provider takes within this time (from its submission, or from being placed again after a preemption) ends `expired`. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 60 * 60_000;

export interface RunningMarket {
  /** Where it listens: ws://127.0.0.1:<port>. */
  url: string;
  /** What peers sign in to: the configured public URL, else `url`. */
  publicUrl: string;
  port: number;
  market: Market;
  close(): Promise<void>;
}

/** A writer that stops reading is cut off rather than buffered without end. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

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
  const signInDeadlineMs = options.signInDeadlineMs ?? SIGN_IN_DEADLINE_MS;
  // Checked before listening: a wrong public URL is a usage error, not a market that signs no one in.
  marketIdentity(options.publicUrl, 1);

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
  // A request that does not arrive within the sign-in deadline is not waited for.
  server.headersTimeout = Math.min(signInDeadlineMs, 60_000);
  server.requestTimeout = Math.min(signInDeadlineMs, 60_000);

  /**
   * Connections not signed in yet (plain HTTP reads included), per remote address: past the limit a
   * new one is answered 503 and closed; each is closed at the sign-in deadline. Signing in releases it.
   */
  const waiting = new Map<string, number>();
  const connected = new Map<string, number>();
  let waitingTotal = 0;
  const refuse = (socket: Socket, why: string, retryS: number) => {
    const body = `${why}; try again in ${retryS} s.`;
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: ${retryS}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
    log.debug('connection refused', { why });
  };
  const release = new WeakMap<Socket, () => void>();
  const upgraded = new WeakSet<Socket>();
  const openedAt = new WeakMap<Socket, number>();
  server.on('connection', (socket: Socket) => {
    const from = socket.remoteAddress ?? 'unknown';
    const n = waiting.get(from) ?? 0;
    const all = connected.get(from) ?? 0;
    if (all >= (options.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS)) return refuse(socket, `Too many connections from ${from} (${all} open)`, 60);
    if (n >= (options.maxUnauthenticatedPerAddress ?? MAX_UNAUTHENTICATED_PER_ADDRESS) || waitingTotal >= (options.maxUnauthenticated ?? MAX_UNAUTHENTICATED)) {
      return refuse(socket, `Too many connections from ${from} are waiting to sign in`, Math.ceil(signInDeadlineMs / 1000));
    }
    connected.set(from, all + 1);
    socket.once('close', () => {
      const left = (connected.get(from) ?? 1) - 1;
      if (left > 0) connected.set(from, left);
      else connected.delete(from);
    });
    waiting.set(from, n + 1);
    waitingTotal += 1;
    openedAt.set(socket, Date.now());
    let held = true;
    const done = () => {
      if (!held) return;
      held = false;
      clearTimeout(deadline);
      waitingTotal -= 1;
      const left = (waiting.get(from) ?? 1) - 1;
      if (left > 0) waiting.set(from, left);
      else waiting.delete(from);
    };
    // A WebSocket is closed by its own timer (with a reason); anything else is cut at the deadline.
    const deadline = setTimeout(() => {
      if (!upgraded.has(socket)) socket.destroy();
    }, signInDeadlineMs);
    deadline.unref();
    release.set(socket, done);
    socket.once('close', done);
  });

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
    upgraded.add(req.socket);
    try {
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, theRole, pathname));
    } catch {
      socket.destroy();
    }
  });

  function onConnection(ws: WebSocket, req: http.IncomingMessage, role: Role, pathname: string): void {
    const site = challengeSite(identity, req.headers.host, pathname);
    let state: 'hello' | 'sign-in' | 'ready' | 'closed' = 'hello';
    let challenge: Challenge | null = null;
    const malformed = new MalformedCounter();
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
      send({ type: 'error', code, message, ...(ref ? { ref } : {}) });
      if (malformed.record(true)) close(1008, `too many malformed messages (over ${MALFORMED_LIMIT}, counted against the valid ones)`);
    };
    const good = () => void malformed.record(false);
    const since = Date.now() - (openedAt.get(req.socket) ?? Date.now());
    const signInTimer = setTimeout(
      () => {
        if (state === 'hello' || state === 'sign-in') {
          send({ type: 'error', code: 'sign-in-timeout', message: `No sign-in within ${Math.round(signInDeadlineMs / 1000)} s of connecting: reconnect and answer the challenge at once.` });
          close(1008, 'no sign-in in time');
        }
      },
      Math.max(0, Math.min(signInDeadlineMs, (options.nonceTtlMs ?? NONCE_TTL_MS) + 5000) - since),
    );

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
          good();
          challenge = nonces.issue(site.domain, site.uri, chainId);
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
          good();
          clearTimeout(signInTimer);
          release.get(req.socket)?.();
          state = 'ready';
          address = result.address;
          send({ type: 'welcome', address, session: `s${Math.random().toString(36).slice(2, 14)}`, chainId, escrow });
          if (role === 'provider') market.providerConnected(address, peer);
          else session = market.buyerConnected(address, peer);
          return;
        }
        const problem = role === 'provider' ? market.fromProvider(address!, peer, msg as never) : market.fromBuyer(session!, msg as never);
        if (problem) return bad(problem.code, problem.message, problem.ref);
        good();
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
  const identity = marketIdentity(options.publicUrl, port);
  const publicUrl = `${identity.scheme}//${identity.host}`;
  log.info('market listening', { url, publicUrl, chainId, escrow, db: dbFile });

  let closing: Promise<void> | null = null;
  return {
    url,
    publicUrl,
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
