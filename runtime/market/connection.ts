/**
 * The provider's one WebSocket to the market: it dials out (works behind home NAT), negotiates
 * the protocol version, signs in with the wallet (EIP-4361 over the market's nonce, only for the
 * host it dialed), then hands every valid message to the provider. When the connection drops
 * it redials with exponential backoff and full jitter (1 s to 60 s). It never throws on input:
 * a malformed message gets an error reply and is counted against the valid ones (MalformedCounter); too many close the socket.
 */
import WebSocket from 'ws';
import type { Logger } from '../log.js';
import { MalformedCounter, parseMessage } from '../../protocol/frames.js';
import {
  MAX_MESSAGE_BYTES,
  PATHS,
  PROTOCOL_VERSION,
  signInMessage,
  SUPPORTED_VERSIONS,
  toProviderMessageSchema,
  type ProviderMessage,
  type ToProviderMessage,
} from '../../protocol/index.js';

export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
const HEARTBEAT_MS = 20_000;

export type LinkState = 'connecting' | 'signing-in' | 'connected' | 'retrying' | 'refused' | 'closed';

export interface Welcome {
  /** The protocol revision the market chose in its challenge (2: the image additions, protocol/images.ts). */
  revision: number;
  address: string;
  session: string;
  chainId: number;
  escrow: string;
}

export interface ConnectionOptions {
  url: string;
  allowInsecure: boolean;
  agent: string;
  /** The wallet: its address and EIP-191 signing (the key stays in the wallet). */
  address: string;
  signMessage: (text: string) => Promise<string>;
  onState: (state: LinkState, reason: string, nextRetryAt: number | null) => void;
  onWelcome: (welcome: Welcome) => void;
  onMessage: (message: Exclude<ToProviderMessage, { type: 'challenge' | 'welcome' }>) => void;
  /** A frame that failed to parse, once signed in (after its error reply): the provider declines an offer whose id it can read. */
  onMalformed?: (data: unknown, isBinary: boolean) => void;
  log: Logger;
  random?: () => number;
  /** Test hook: the backoff bounds. */
  backoff?: { minMs: number; maxMs: number };
}

/** Checks the market's URL: ws(s), a host, no credentials; plain ws only to loopback unless allowed. */
export function checkMarketUrl(raw: string, allowInsecure: boolean): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `"${raw.slice(0, 200)}" is not a URL. A market URL looks like wss://market.example.com.` };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return { ok: false, reason: `The market URL must start with wss:// (or ws:// on this computer), not ${url.protocol}//.` };
  if (url.username || url.password) return { ok: false, reason: 'The market URL must not carry a user name or password.' };
  if (url.protocol === 'ws:' && !isLoopbackHost(url.hostname) && !allowInsecure) {
    return {
      ok: false,
      reason: `Refusing plain ws:// to ${url.hostname}: the connection would not be encrypted. Use wss://, or allow insecure connections in the marketplace settings if you trust this network.`,
    };
  }
  return { ok: true, url };
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Exponential backoff with full jitter: attempt 0 waits up to min, each next doubles, capped. */
export function backoffDelay(attempt: number, random: () => number, minMs = BACKOFF_MIN_MS, maxMs = BACKOFF_MAX_MS): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs / 2, Math.round(cap * random()));
}

/** One dial's socket and what it learned: the host dialed, the last socket error, why the market refused, the revision it chose. */
interface Dialed {
  ws: WebSocket;
  url: URL;
  lastError: string;
  refusal: string | null;
  revision: number;
}

export class MarketConnection {
  private ws: WebSocket | null = null;
  private state: LinkState = 'closed';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private malformed = new MalformedCounter();
  private stopped = false;
  private alive = true;

  constructor(private readonly o: ConnectionOptions) {}

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    this.stopped = false;
    this.dial();
  }

  /** Sends when signed in; false otherwise (the caller keeps what must not be lost). */
  send(message: ProviderMessage): boolean {
    if (this.state !== 'connected' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1000, 'provider stopping');
      });
    }
    this.setState('closed', 'Disconnected.', null);
  }

  private setState(state: LinkState, reason: string, nextRetryAt: number | null): void {
    this.state = state;
    this.o.onState(state, reason, nextRetryAt);
  }

  private dial(): void {
    if (this.stopped) return;
    const checked = checkMarketUrl(this.o.url, this.o.allowInsecure);
    if (!checked.ok) {
      this.setState('refused', checked.reason, null);
      return;
    }
    const target = new URL(PATHS.provider, checked.url);
    this.setState('connecting', `Connecting to ${checked.url.host}…`, null);
    let ws: WebSocket;
    try {
      ws = new WebSocket(target, { maxPayload: MAX_MESSAGE_BYTES, handshakeTimeout: 10_000, perMessageDeflate: false });
    } catch (error) {
      this.retry(`Cannot connect: ${(error as Error).message}`);
      return;
    }
    this.ws = ws;
    this.malformed = new MalformedCounter();
    const dialed: Dialed = { ws, url: checked.url, lastError: '', refusal: null, revision: 1 };
    ws.on('open', () => {
      this.setState('signing-in', `Connected to ${checked.url.host}; signing in with your wallet…`, null);
      this.raw(ws, { type: 'hello', versions: [...SUPPORTED_VERSIONS], role: 'provider', agent: this.o.agent });
      this.startHeartbeat(ws);
    });
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data, isBinary) => this.onFrame(dialed, data, isBinary));
    ws.on('error', (error) => {
      dialed.lastError = error.message;
    });
    ws.on('close', (code, reasonBuffer) => {
      this.clearHeartbeat();
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      const why = dialed.refusal ?? (dialed.lastError ? `Cannot reach the market (${dialed.lastError}).` : `The market closed the connection (${code}${reasonBuffer.length ? `: ${reasonBuffer.toString().slice(0, 200)}` : ''}).`);
      this.retry(why);
    });
  }

  /** One frame on a dialed socket: a malformed one answered and counted, the sign-in steps, then the provider's messages. */
  private onFrame(d: Dialed, data: WebSocket.RawData, isBinary: boolean): void {
    const ws = d.ws;
    this.alive = true;
    const parsed = parseMessage(toProviderMessageSchema, data, isBinary);
    if (!parsed.ok) {
      const tooMany = this.malformed.record(true);
      this.o.log.warn('malformed message from the market', { code: parsed.code, count: this.malformed.count });
      if (ws.readyState === WebSocket.OPEN) this.raw(ws, { type: 'error', code: parsed.code, message: parsed.message });
      if (this.state === 'connected') {
        try {
          this.o.onMalformed?.(data, isBinary);
        } catch (error) {
          this.o.log.error('handling a malformed market message failed', { error: (error as Error).message });
        }
      }
      if (tooMany) ws.close(1008, 'too many malformed messages');
      return;
    }
    this.malformed.record(false);
    const m = parsed.message;
    if (m.type === 'challenge') {
      d.revision = m.version;
      void this.signIn(ws, d.url, m).catch((error: unknown) => {
        d.refusal = `Could not sign in: ${(error as Error).message}`;
        ws.close(1000);
      });
      return;
    }
    if (m.type === 'welcome') {
      if (this.state !== 'signing-in') return;
      this.attempt = 0;
      this.setState('connected', `Connected to ${d.url.host} as ${m.address}.`, null);
      try {
        this.o.onWelcome({ revision: d.revision, address: m.address, session: m.session, chainId: m.chainId, escrow: m.escrow });
      } catch (error) {
        this.o.log.error('handling the market welcome failed', { error: (error as Error).message });
      }
      return;
    }
    if (m.type === 'error' && this.state === 'signing-in') {
      d.refusal = m.code === 'unsupported-version' ? `The market does not speak protocol version ${PROTOCOL_VERSION}: ${m.message}` : `The market refused the sign-in: ${m.message}`;
      if (m.code === 'unsupported-version') this.attempt = Math.max(this.attempt, 5);
      return;
    }
    if (this.state !== 'connected') return;
    try {
      this.o.onMessage(m);
    } catch (error) {
      this.o.log.error('handling a market message failed', { type: m.type, error: (error as Error).message });
    }
  }

  private async signIn(ws: WebSocket, url: URL, c: Extract<ToProviderMessage, { type: 'challenge' }>): Promise<void> {
    if (!(SUPPORTED_VERSIONS as readonly number[]).includes(c.version)) throw new Error(`the market chose protocol version ${c.version}, which this agent does not speak`);
    // Sign only for the market this agent dialed: a challenge naming another host is a relay.
    if (c.domain !== url.host) throw new Error(`the market asked to sign in to "${c.domain}", not ${url.host}`);
    const message = signInMessage({
      domain: c.domain,
      address: this.o.address,
      uri: c.uri,
      chainId: c.chainId,
      nonce: c.nonce,
      issuedAt: c.issuedAt,
      expirationTime: c.expiresAt,
      role: 'provider',
    });
    const signature = await this.o.signMessage(message);
    if (ws.readyState === WebSocket.OPEN) this.raw(ws, { type: 'sign-in', message, signature });
  }

  private raw(ws: WebSocket, message: ProviderMessage): void {
    ws.send(JSON.stringify(message));
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    const { minMs, maxMs } = this.o.backoff ?? { minMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS };
    const delay = backoffDelay(this.attempt, this.o.random ?? Math.random, minMs, maxMs);
    this.attempt += 1;
    const at = Date.now() + delay;
    this.setState('retrying', `${reason} Retrying in ${Math.ceil(delay / 1000)} s.`, at);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, delay);
    this.retryTimer.unref?.();
  }

  private startHeartbeat(ws: WebSocket): void {
    this.clearHeartbeat();
    this.alive = true;
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        ws.terminate();
        return;
      }
      this.alive = false;
      try {
        ws.ping();
      } catch {}
    }, HEARTBEAT_MS);
    this.heartbeat.unref?.();
  }

  private clearHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
