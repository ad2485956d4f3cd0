/**
 * One peer's WebSocket: every frame parsed with the shared protocol, the first exchange
 * (hello → challenge → sign-in → welcome) done here, then each message handed to the market.
 * Malformed messages are counted against valid ones; nothing a peer sends can crash the market.
 */
import type http from 'node:http';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../runtime/log.js';
import { MALFORMED_LIMIT, MalformedCounter, parseMessage } from '../protocol/frames.js';
import { buyerMessageSchema, PATHS, providerMessageSchema, type BuyerMessage, type ProviderMessage, type Role } from '../protocol/index.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { BuyerSession, Market, Peer } from './market.js';
import { challengeSite, checkSignIn, pickRevision, type Challenge, type MarketIdentity, type NonceBook } from './sign-in.js';

/** A writer that stops reading is cut off rather than buffered without end. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** What every connection shares: the market, who it is, its nonces and limits. */
export interface ConnectionContext {
  market: Market;
  chainId: number;
  escrow: string;
  nonces: NonceBook;
  limits: ConnectionLimits;
  log: Logger;
  signInDeadlineMs: number;
  nonceTtlMs: number;
  /** The protocol revisions this market speaks (default SUPPORTED_VERSIONS). */
  versions: readonly number[];
  /** Set once the server listens (it names the port). */
  identity: MarketIdentity | null;
}

export class PeerConnection {
  private state: 'hello' | 'sign-in' | 'ready' | 'closed' = 'hello';
  private challenge: Challenge | null = null;
  /** The revision this connection speaks, from the hello (pickRevision). */
  private revision = 1;
  private readonly malformed = new MalformedCounter();
  private address: string | null = null;
  private session: BuyerSession | null = null;
  private readonly peer: Peer<never> = { send: (m) => this.send(m), close: (code, reason) => this.close(code, reason) };
  private readonly signInTimer: NodeJS.Timeout;
  private readonly site: { domain: string; uri: string };

  constructor(
    private readonly ws: WebSocket,
    private readonly req: http.IncomingMessage,
    private readonly role: Role,
    pathname: string,
    private readonly ctx: ConnectionContext,
  ) {
    this.site = challengeSite(ctx.identity!, req.headers.host, pathname);
    const left = Math.min(ctx.signInDeadlineMs, ctx.nonceTtlMs + 5000) - ctx.limits.age(req.socket);
    this.signInTimer = setTimeout(() => this.signInTimedOut(), Math.max(0, left));
    ws.on('error', (error) => ctx.log.debug('market socket error', { error }));
    ws.on('close', () => this.closed());
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
  }

  private send(message: object): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return this.close(1013, 'too slow: messages are piling up');
    this.ws.send(JSON.stringify(message));
  }

  private close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.signInTimer);
    this.ws.close(code, reason.slice(0, 120));
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private bad(code: string, message: string, ref?: string): void {
    this.send({ type: 'error', code, message, ...(ref ? { ref } : {}) });
    if (this.malformed.record(true)) this.close(1008, `too many malformed messages (over ${MALFORMED_LIMIT}, counted against the valid ones)`);
  }

  private good(): void {
    this.malformed.record(false);
  }

  private signInTimedOut(): void {
    if (this.state !== 'hello' && this.state !== 'sign-in') return;
    this.send({ type: 'error', code: 'sign-in-timeout', message: `No sign-in within ${Math.round(this.ctx.signInDeadlineMs / 1000)} s of connecting: reconnect and answer the challenge at once.` });
    this.close(1008, 'no sign-in in time');
  }

  private closed(): void {
    this.state = 'closed';
    clearTimeout(this.signInTimer);
    if (this.address && this.role === 'provider') this.ctx.market.providerGone(this.address, this.peer);
    if (this.session) this.ctx.market.buyerGone(this.session);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    try {
      const parsed = this.role === 'provider' ? parseMessage(providerMessageSchema, data, isBinary) : parseMessage(buyerMessageSchema, data, isBinary);
      if (!parsed.ok) return this.bad(parsed.code, parsed.message);
      const msg = parsed.message;
      if (this.state === 'hello') return this.hello(msg);
      if (this.state === 'sign-in') return this.signIn(msg);
      const { market } = this.ctx;
      const problem = this.role === 'provider' ? market.fromProvider(this.address!, this.peer, msg as ProviderMessage) : market.fromBuyer(this.session!, msg as BuyerMessage);
      if (problem) return this.bad(problem.code, problem.message, problem.ref);
      this.good();
    } catch (error) {
      // A bug of ours, never the peer's doing: answered, logged, and the market goes on.
      this.ctx.log.error('market failed on a message', { role: this.role, error });
      this.bad('internal', 'The market could not handle that message.');
    }
  }

  private hello(msg: ProviderMessage | BuyerMessage): void {
    if (msg.type !== 'hello') return this.bad('hello-first', 'Say hello first: { "type": "hello", "versions": [1], "role": … }.');
    if (msg.role !== this.role) return this.bad('wrong-role', `This is the ${this.role} endpoint; ${msg.role}s dial ${PATHS[msg.role]}.`);
    const revision = pickRevision(msg.versions, this.ctx.versions);
    if (revision === null) {
      const update = this.role === 'provider' ? 'Update the agent' : 'Update the buyer client';
      this.send({ type: 'error', code: 'unsupported-version', message: `This market speaks protocol versions ${this.ctx.versions.join(', ')}; you offered ${msg.versions.join(', ')}. ${update}.` });
      return this.close(1002, 'unsupported version');
    }
    this.good();
    this.revision = revision;
    this.challenge = this.ctx.nonces.issue(this.site.domain, this.site.uri, this.ctx.chainId, revision);
    this.state = 'sign-in';
    this.send(this.challenge);
  }

  private signIn(msg: ProviderMessage | BuyerMessage): void {
    if (msg.type !== 'sign-in' || !this.challenge) return this.bad('sign-in-first', 'Answer the challenge with a sign-in first.');
    const { market, nonces, log, chainId, escrow } = this.ctx;
    const result = checkSignIn({ message: msg.message, signature: msg.signature, challenge: this.challenge, role: this.role, nonces });
    if (!result.ok) {
      this.send({ type: 'error', code: 'sign-in-refused', message: result.reason });
      log.info('sign-in refused', { role: this.role, reason: result.reason });
      return this.close(1008, 'sign-in refused');
    }
    this.good();
    clearTimeout(this.signInTimer);
    this.ctx.limits.release(this.req.socket);
    this.state = 'ready';
    const address = (this.address = result.address);
    this.send({ type: 'welcome', address, session: `s${Math.random().toString(36).slice(2, 14)}`, chainId, escrow });
    if (this.role === 'provider') market.providerConnected(address, this.peer, this.revision);
    else this.session = market.buyerConnected(address, this.peer, this.revision);
  }
}
