/**
 * The market's side of the first exchange: issuing single-use nonces (challenges) and checking
 * an EIP-4361 sign-in against the challenge this connection was given. The signature is
 * recovered with ethers' `verifyMessage`; the market never signs anything.
 */
import crypto from 'node:crypto';
import { getAddress, verifyMessage } from 'ethers';
import { NONCE_TTL_MS, parseSignInMessage, PROTOCOL_VERSION, type Role } from '../protocol/index.js';

export interface Challenge {
  type: 'challenge';
  version: number;
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  issuedAt: string;
  expiresAt: string;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random letters and digits (about 190 bits). */
export function newNonce(): string {
  const bytes = crypto.randomBytes(32);
  let out = '';
  for (const b of bytes) out += ALPHANUM[b % ALPHANUM.length];
  return out;
}

/** Clock skew tolerated on the sign-in message's Issued At. */
const SKEW_MS = 60_000;
/**
 * The longest a sign-in may stand, from its Issued At to its Expiration Time. The challenge asks for
 * the nonce's life (60 s); a sign-in that claims longer (an expiration in 2099) is refused, so a
 * signed text is worth nothing minutes later, whatever becomes of the nonce book.
 */
export const MAX_SIGN_IN_LIFETIME_MS = 5 * 60_000;

/**
 * Nonces issued and not yet used. A nonce is consumed by the first sign-in that names it,
 * whether that sign-in succeeds or not, and is forgotten once expired.
 */
export class NonceBook {
  private readonly issued = new Map<string, number>();
  private readonly used = new Map<string, number>();

  constructor(
    private readonly ttlMs = NONCE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A challenge in `version`, the revision this connection will speak (pickRevision). */
  issue(domain: string, uri: string, chainId: number, version: number = PROTOCOL_VERSION): Challenge {
    this.sweep();
    const nonce = newNonce();
    const at = this.now();
    const expires = at + this.ttlMs;
    this.issued.set(nonce, expires);
    return { type: 'challenge', version, nonce, domain, uri, chainId, issuedAt: new Date(at).toISOString(), expiresAt: new Date(expires).toISOString() };
  }

  /** 'ok' once; then 'used'. 'unknown' for a nonce never issued, 'expired' past its time. */
  consume(nonce: string): 'ok' | 'used' | 'unknown' | 'expired' {
    if (this.used.has(nonce)) return 'used';
    const expires = this.issued.get(nonce);
    if (expires === undefined) return 'unknown';
    this.issued.delete(nonce);
    this.used.set(nonce, expires + SKEW_MS);
    return this.now() > expires ? 'expired' : 'ok';
  }

  private sweep(): void {
    const now = this.now();
    if (this.issued.size + this.used.size < 1024) return;
    for (const [n, e] of this.issued) if (now > e + SKEW_MS) this.issued.delete(n);
    for (const [n, e] of this.used) if (now > e) this.used.delete(n);
  }

  get size(): number {
    return this.issued.size + this.used.size;
  }
}

/**
 * The revision a connection speaks: the highest one both the peer's `hello.versions` and the market
 * list; null when they share none. A peer that lists only 1 is spoken to in 1, whatever else the
 * market speaks, so it never sees a field or message it does not know.
 */
export function pickRevision(theirs: readonly number[], ours: readonly number[]): number | null {
  let best: number | null = null;
  for (const v of theirs) if (ours.includes(v) && (best === null || v > best)) best = v;
  return best;
}

export type SignInResult = { ok: true; address: string } | { ok: false; reason: string };

/**
 * Checks a sign-in against the challenge sent on this connection: the text is an EIP-4361
 * message of our form, names our domain, URI and chain, this connection's nonce (unused and
 * unexpired), the role of the path dialed and sane dates; the signature recovers the address the
 * message names.
 */
export function checkSignIn(input: { message: string; signature: string; challenge: Challenge; role: Role; nonces: NonceBook; now?: number }): SignInResult {
  const { challenge, role } = input;
  const now = input.now ?? Date.now();
  const fields = parseSignInMessage(input.message);
  if (!fields) return { ok: false, reason: 'The sign-in text is not an EIP-4361 message of the form the challenge asks for.' };
  if (fields.domain !== challenge.domain) return { ok: false, reason: `The sign-in names the domain "${fields.domain.slice(0, 100)}", not this market's "${challenge.domain}".` };
  if (fields.uri !== challenge.uri) return { ok: false, reason: `The sign-in names the URI "${fields.uri.slice(0, 200)}", not "${challenge.uri}".` };
  if (fields.chainId !== challenge.chainId) return { ok: false, reason: `The sign-in is for chain ${fields.chainId}; this market is on chain ${challenge.chainId}.` };
  if (fields.role !== role) return { ok: false, reason: `The sign-in is for a ${fields.role}, but this is the ${role} endpoint.` };
  if (fields.nonce !== challenge.nonce) {
    // Someone else's nonce (a replay): burn it too.
    const state = input.nonces.consume(fields.nonce);
    return { ok: false, reason: state === 'used' ? 'The nonce was already used: sign in again with the new challenge.' : 'The nonce is not the one this connection was given.' };
  }
  const state = input.nonces.consume(fields.nonce);
  if (state === 'used') return { ok: false, reason: 'The nonce was already used: sign in again with the new challenge.' };
  if (state === 'expired') return { ok: false, reason: `The nonce expired (nonces stand ${Math.round(NONCE_TTL_MS / 1000)} s): reconnect for a new challenge.` };
  if (state === 'unknown') return { ok: false, reason: 'The nonce is unknown.' };
  const issued = Date.parse(fields.issuedAt);
  const expires = Date.parse(fields.expirationTime);
  if (!Number.isFinite(issued) || !Number.isFinite(expires)) return { ok: false, reason: 'The sign-in dates are not ISO-8601 times.' };
  if (issued > now + SKEW_MS) return { ok: false, reason: 'The sign-in is issued in the future: check this computer’s clock.' };
  if (issued < now - MAX_SIGN_IN_LIFETIME_MS - SKEW_MS) return { ok: false, reason: 'The sign-in was issued too long ago: sign the challenge’s own Issued At.' };
  if (expires <= now) return { ok: false, reason: 'The sign-in has expired: reconnect for a new challenge.' };
  if (expires <= issued) return { ok: false, reason: 'The sign-in expires before it is issued: sign the challenge’s own times.' };
  if (expires - issued > MAX_SIGN_IN_LIFETIME_MS) {
    return { ok: false, reason: `The sign-in stands until ${fields.expirationTime.slice(0, 40)}, more than ${MAX_SIGN_IN_LIFETIME_MS / 60_000} minutes after it is issued: sign the challenge’s own Expiration Time (${challenge.expiresAt}).` };
  }
  let recovered: string;
  try {
    recovered = verifyMessage(input.message, input.signature);
  } catch {
    return { ok: false, reason: 'The signature cannot be read.' };
  }
  const claimed = getAddress(fields.address.toLowerCase());
  if (recovered !== claimed) return { ok: false, reason: `The signature is not ${claimed}'s (it recovers ${recovered}).` };
  return { ok: true, address: claimed };
}

/**
 * Who the market is, for the sign-in: the host (EIP-4361 domain) and URL a peer must sign for.
 * It comes from the market's configuration (its public URL), never from the request, so a relay
 * that forwards a peer's connection cannot have the peer sign for the relay's own address: the
 * challenge names the market, the peer refuses to sign for a host it did not dial, and a text
 * signed for any other host is refused here.
 */
export interface MarketIdentity {
  /** The public URL's scheme and host, as a peer dials them: ws://127.0.0.1:8600, wss://market.example.com. */
  scheme: 'ws:' | 'wss:';
  host: string;
  /** Other names of this very market: with no public URL set, `localhost:<port>` beside `127.0.0.1:<port>`. */
  aliases: readonly string[];
}

/** The identity from `--public-url` (ws:// or wss://, no path, no credentials), or from the listening port when none is set. */
export function marketIdentity(publicUrl: string | null | undefined, port: number): MarketIdentity {
  if (!publicUrl) return { scheme: 'ws:', host: `127.0.0.1:${port}`, aliases: [`localhost:${port}`] };
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new Error(`The public URL "${publicUrl.slice(0, 200)}" is not a URL: give the address peers dial, such as wss://market.example.com.`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`The public URL must start with wss:// (or ws://), not ${url.protocol}//.`);
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new Error(`The public URL is the market's scheme and host only (such as wss://market.example.com), not "${publicUrl.slice(0, 200)}".`);
  }
  return { scheme: url.protocol, host: url.host, aliases: [] };
}

/**
 * The domain and URI a challenge names. A peer that dialed one of the market's own names gets that
 * name (so `localhost` works beside `127.0.0.1`); any other Host (a relay's) gets the market's
 * public host, which the peer then refuses to sign for.
 */
export function challengeSite(identity: MarketIdentity, hostHeader: string | undefined, pathname: string): { domain: string; uri: string } {
  const asked = (hostHeader ?? '').toLowerCase();
  const domain = identity.aliases.includes(asked) ? asked : identity.host;
  return { domain, uri: `${identity.scheme}//${domain}${pathname}` };
}
