/**
 * Dialing the market and signing in as a buyer (hello, challenge, EIP-4361 sign-in, welcome).
 * The buyer signs only for the market it dialed, and refuses one on another chain or escrow. It
 * lists every revision it speaks; the challenge names the one the connection then speaks.
 */
import { getAddress, type Signer } from 'ethers';
import WebSocket from 'ws';
import { AppError } from '../runtime/errors.js';
import { parseMessage } from '../protocol/frames.js';
import { MAX_MESSAGE_BYTES, PATHS, signInMessage, SUPPORTED_VERSIONS, toBuyerMessageSchema, type ToBuyerMessage } from '../protocol/index.js';
import type { BuyerConnectOptions } from './types.js';

type Challenge = Extract<ToBuyerMessage, { type: 'challenge' }>;
type Welcome = Extract<ToBuyerMessage, { type: 'welcome' }>;

export interface SignedIn {
  ws: WebSocket;
  chainId: number;
  escrow: string;
  /** The protocol revision this connection speaks (the challenge's `version`). */
  revision: number;
}

/** What the connection tells its owner: the welcome (before the promise resolves), then every message, and a malformed frame at any time. */
export interface ConnectionEvents {
  welcomed(signedIn: SignedIn): void;
  message(msg: ToBuyerMessage): void;
  closed(ws: WebSocket, reason: string): void;
  malformed(code: string, message: string): void;
}

function sameUrl(text: string, url: URL): boolean {
  try {
    return new URL(text).href === url.href;
  } catch {
    return false;
  }
}

function marketUrl(market: string): URL {
  let url: URL;
  try {
    url = new URL(market.replace(/\/+$/, '') + PATHS.buyer);
  } catch {
    throw new AppError('usage', `"${market}" is not a market URL (ws://host:port).`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new AppError('usage', `The market URL must start with ws:// or wss://, not ${url.protocol}//.`);
  return url;
}

/** The refusal of a challenge that names another market than the one dialed (a relay), or a revision we did not offer, or null. */
function challengeRefusal(msg: Challenge, url: URL): AppError | null {
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(msg.version)) return new AppError('market-refused', `The market answered in protocol revision ${msg.version}, which this buyer did not offer (it speaks ${SUPPORTED_VERSIONS.join(', ')}): refused. Update the buyer client, or use a market that speaks one of these.`);
  if (msg.domain !== url.host) return new AppError('market-refused', `The market asks us to sign in to "${msg.domain}", but we dialed ${url.host}: refused (a relay, or the market's public URL is not the address given with --market).`);
  if (!sameUrl(msg.uri, url)) return new AppError('market-refused', `The market asks us to sign in at "${msg.uri.slice(0, 200)}", but we dialed ${url.href}: refused.`);
  return null;
}

function welcomeRefusal(msg: Welcome, options: BuyerConnectOptions): AppError | null {
  if (options.expectChainId !== undefined && msg.chainId !== options.expectChainId) return new AppError('wrong-chain', `The market is on chain ${msg.chainId}, not ${options.expectChainId}.`);
  if (options.expectEscrow && msg.escrow.toLowerCase() !== options.expectEscrow.toLowerCase()) return new AppError('wrong-escrow', `The market uses escrow ${msg.escrow}, not ${options.expectEscrow}.`);
  return null;
}

/** Connects and signs in; resolves on `welcome`. Messages after it go to `events`. */
export function signIn(options: BuyerConnectOptions, signer: Signer, address: string, events: ConnectionEvents): Promise<void> {
  let url: URL;
  try {
    url = marketUrl(options.market);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let welcomed = false;
    let revision = 1;
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    const timer = setTimeout(() => fail(new AppError('market-unreachable', `The market at ${options.market} did not sign us in within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
    const beforeWelcome = (msg: ToBuyerMessage) => {
      if (msg.type === 'challenge') {
        const refusal = challengeRefusal(msg, url);
        if (refusal) return fail(refusal);
        revision = msg.version;
        const text = signInMessage({ domain: msg.domain, address, uri: msg.uri, chainId: msg.chainId, nonce: msg.nonce, issuedAt: msg.issuedAt, expirationTime: msg.expiresAt, role: 'buyer' });
        signer.signMessage(text).then(
          (signature) => ws.send(JSON.stringify({ type: 'sign-in', message: text, signature })),
          (error: unknown) => fail(new AppError('sign-in-failed', `Could not sign in: ${(error as Error).message}`)),
        );
      } else if (msg.type === 'welcome') {
        const refusal = welcomeRefusal(msg, options);
        if (refusal) return fail(refusal);
        welcomed = true;
        clearTimeout(timer);
        events.welcomed({ ws, chainId: msg.chainId, escrow: getAddress(msg.escrow.toLowerCase()), revision });
        resolve();
      } else if (msg.type === 'error') {
        fail(new AppError(msg.code === 'sign-in-refused' ? 'sign-in-refused' : 'market-refused', `The market refused us: ${msg.message}`));
      }
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', versions: [...SUPPORTED_VERSIONS], role: 'buyer', agent: (options.agent ?? 'offshift-buyer').slice(0, 64) })));
    ws.on('error', (error) => {
      if (!welcomed) fail(new AppError('market-unreachable', `Cannot reach the market at ${options.market}: ${error.message}. Is \`offshift market serve\` running?`));
    });
    ws.on('close', (code, reason) => {
      if (!welcomed) fail(new AppError('market-refused', `The market closed the connection (${code} ${reason.toString() || 'no reason'}).`));
      else events.closed(ws, `closed ${code} ${reason.toString()}`.trim());
    });
    ws.on('message', (data, isBinary) => {
      const parsed = parseMessage(toBuyerMessageSchema, data, isBinary);
      if (!parsed.ok) return events.malformed(parsed.code, `The market sent a malformed message: ${parsed.message}`);
      if (welcomed) events.message(parsed.message);
      else beforeWelcome(parsed.message);
    });
  });
}
