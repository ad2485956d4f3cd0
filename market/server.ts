/**
 * The reference market's transport: HTTP and WebSocket on 127.0.0.1. Providers dial
 * /v1/provider, buyers /v1/buyer; GET /v1/jobs and /v1/providers read what the market sees.
 * Here the pieces are put together: the store and the market, the HTTP reads (http-reads.ts), the
 * limits on connections (connection-limits.ts) and each peer's WebSocket (peer-connection.ts).
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { getAddress } from 'ethers';
import { WebSocketServer } from 'ws';
import { silentLogger, type Logger } from '../runtime/log.js';
import { DEFAULT_OFFER_TTL_MS, MAX_MESSAGE_BYTES, NONCE_TTL_MS, PATHS, SUPPORTED_VERSIONS, type Role } from '../protocol/index.js';
import { ConnectionLimits } from './connection-limits.js';
import { readsHandler } from './http-reads.js';
import { DEMAND_MIN_INTERVAL_MS } from './demand-sender.js';
import { Market } from './market.js';
import { PeerConnection, type ConnectionContext } from './peer-connection.js';
import { marketIdentity, NonceBook } from './sign-in.js';
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
  /**
   * The protocol revisions this market speaks (default SUPPORTED_VERSIONS, [1, 2]). A test runs a
   * market of before revision 2 with [1]: every peer is then answered, and spoken to, in 1.
   */
  versions?: readonly number[];
  /** The least time between two `demand` messages to one provider (default DEMAND_MIN_INTERVAL_MS, 30 s); tests shorten it. */
  demandIntervalMs?: number;
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

/** The revisions asked for, checked: some of those this code speaks, 1 among them. */
function marketVersions(asked: readonly number[] | undefined): readonly number[] {
  const versions = asked ?? SUPPORTED_VERSIONS;
  const unknown = versions.filter((v) => !(SUPPORTED_VERSIONS as readonly number[]).includes(v));
  if (versions.length === 0 || unknown.length > 0 || !versions.includes(1)) {
    throw new Error(`A market speaks protocol revision 1 and may add others of ${SUPPORTED_VERSIONS.join(', ')}; ${versions.length === 0 ? 'none was given' : `${versions.join(', ')} was given`}.`);
  }
  return [...versions];
}

/** Default --db: a file in the temp folder would outlive nothing useful, so memory it is. */
export function defaultDbFile(): string {
  return ':memory:';
}

/** The store (a file, or memory) and the market on it. */
function openMarket(options: MarketOptions, log: Logger, escrow: string): { store: MarketStore; market: Market; dbFile: string } {
  const dbFile = options.dbFile ?? defaultDbFile();
  const store = new MarketStore(dbFile === ':memory:' ? dbFile : path.resolve(dbFile.replace(/^~(?=$|\/)/, os.homedir())));
  const market = new Market(store, {
    chainId: options.chainId,
    escrow,
    offerTtlMs: options.offerTtlMs ?? DEFAULT_OFFER_TTL_MS,
    providerGraceMs: options.providerGraceMs ?? 5 * 60_000,
    maxOpenJobsPerBuyer: options.maxOpenJobsPerBuyer ?? 20_000,
    endedLingerMs: 10 * 60_000,
    queueTimeoutMs: options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    demandIntervalMs: options.demandIntervalMs ?? DEMAND_MIN_INTERVAL_MS,
    log,
  });
  return { store, market, dbFile };
}

/** Hands a WebSocket upgrade on a role's path to a new PeerConnection; anything else is 404. */
function upgradeHandler(wss: WebSocketServer, ctx: ConnectionContext): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
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
    ctx.limits.markUpgraded(req.socket);
    try {
      wss.handleUpgrade(req, socket, head, (ws) => new PeerConnection(ws, req, theRole, pathname, ctx));
    } catch {
      socket.destroy();
    }
  };
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

export async function startMarket(options: MarketOptions): Promise<RunningMarket> {
  const log = options.log ?? silentLogger;
  const escrow = getAddress(options.escrow.toLowerCase());
  const chainId = options.chainId;
  const versions = marketVersions(options.versions);
  const { store, market, dbFile } = openMarket(options, log, escrow);
  const signInDeadlineMs = options.signInDeadlineMs ?? SIGN_IN_DEADLINE_MS;
  // Checked before listening: a wrong public URL is a usage error, not a market that signs no one in.
  marketIdentity(options.publicUrl, 1);
  const limits = new ConnectionLimits(
    {
      signInDeadlineMs,
      maxUnauthenticatedPerAddress: options.maxUnauthenticatedPerAddress ?? MAX_UNAUTHENTICATED_PER_ADDRESS,
      maxUnauthenticated: options.maxUnauthenticated ?? MAX_UNAUTHENTICATED,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS,
    },
    log,
  );
  const ctx: ConnectionContext = { market, chainId, escrow, nonces: new NonceBook(options.nonceTtlMs ?? NONCE_TTL_MS), limits, log, signInDeadlineMs, nonceTtlMs: options.nonceTtlMs ?? NONCE_TTL_MS, versions, identity: null };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const server = http.createServer(readsHandler(market, { chainId, escrow, versions }, log));
  server.on('clientError', (_error, socket) => socket.destroy());
  // A request that does not arrive within the sign-in deadline is not waited for.
  server.headersTimeout = Math.min(signInDeadlineMs, 60_000);
  server.requestTimeout = Math.min(signInDeadlineMs, 60_000);
  limits.watch(server);
  server.on('upgrade', upgradeHandler(wss, ctx));

  const port = await listen(server, options.port ?? 0);
  const url = `ws://127.0.0.1:${port}`;
  const identity = (ctx.identity = marketIdentity(options.publicUrl, port));
  const publicUrl = `${identity.scheme}//${identity.host}`;
  log.info('market listening', { url, publicUrl, chainId, escrow, db: dbFile });

  let closing: Promise<void> | null = null;
  const close = async () => {
    market.close();
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    store.close();
  };
  return { url, publicUrl, port, market, close: () => (closing ??= close()) };
}
