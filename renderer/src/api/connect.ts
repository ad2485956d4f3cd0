/**
 * One client whichever transport is underneath: the Electron preload's `window.offshift`
 * (a MessagePort to the agent) or, in a browser pointed at `offshift agent`, a WebSocket to
 * ws://<host>/api that presents the token as a subprotocol. The returned client is stable:
 * it survives reconnects, and its event listeners stay attached across them.
 */
import type { OffshiftBridge } from '../../../runtime/api/bridge.js';
import { createClient, type Client, type Transport } from '../../../runtime/api/client.js';
import { socketTransport } from '../../../runtime/api/transports/socket-client.js';
import { backoffDelayMs } from './backoff.js';
import { API_PATH, API_SUBPROTOCOL, TOKEN_STORAGE_KEY, TOKEN_SUBPROTOCOL_PREFIX } from './constants.js';
import { isPlausibleToken, tokenFromFragment } from './token.js';
import { validatingTransport } from './validating-transport.js';

declare global {
  interface Window {
    offshift?: OffshiftBridge;
  }
}

export type ConnectionStatus =
  | { phase: 'connecting'; transport: 'electron' | 'websocket' }
  | { phase: 'connected'; transport: 'electron' | 'websocket' }
  /** The socket closed or could not open; the next try is at `retryAt` (Unix ms). */
  | { phase: 'reconnecting'; attempt: number; retryAt: number; reason: string }
  /** The agent answers HTTP but refused the WebSocket: the token is wrong or out of date. */
  | { phase: 'rejected'; attempt: number; retryAt: number }
  /** The page was opened without a token (or a malformed one): nothing to connect with. */
  | { phase: 'no-token'; why: 'missing' | 'malformed' };

export interface Connection {
  client: Client;
  /** Tries again now (the "Retry now" button). */
  retryNow(): void;
  stop(): void;
}

export interface ConnectOptions {
  onStatus(status: ConnectionStatus): void;
  /** Called after every (re)connection, to fetch the state afresh. */
  onConnected(client: Client): void;
  warn?(message: string): void;
}

const DISCONNECTED = { ok: false as const, error: { code: 'disconnected', message: 'Not connected to the agent: reconnecting…' } };

/** The stable side of the client: requests go to the transport in use (or are answered `disconnected`), its events to every listener. */
interface Facade {
  transport: Transport;
  forward(event: string, payload: unknown): void;
  use(transport: Transport | null): void;
}

function createFacade(): Facade {
  const listeners = new Set<(event: string, payload: unknown) => void>();
  let current: Transport | null = null;
  return {
    transport: {
      request: (command, input) => (current ? current.request(command, input) : Promise.resolve(DISCONNECTED)),
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    forward(event, payload) {
      for (const listener of listeners) listener(event, payload);
    },
    use(transport) {
      current = transport;
    },
  };
}

export function connect(options: ConnectOptions): Connection {
  const facade = createFacade();

  const bridge = window.offshift;
  if (bridge) {
    // Electron: the preload's bridge already reaches the agent (and main restarts it if it dies).
    const current = validatingTransport(bridge, options.warn);
    facade.use(current);
    current.onEvent(facade.forward);
    const client = createClient(facade.transport);
    options.onStatus({ phase: 'connected', transport: 'electron' });
    queueMicrotask(() => options.onConnected(client));
    return { client, retryNow: () => {}, stop: () => {} };
  }

  const token = takeToken();
  const client = createClient(facade.transport);
  // The agent's link pasted into this tab changes only the fragment (no reload): start afresh with it.
  window.addEventListener('hashchange', () => {
    if (tokenFromFragment(location.hash).kind !== 'none') location.reload();
  });
  if (token.kind !== 'token') {
    options.onStatus({ phase: 'no-token', why: token.kind });
    return { client, retryNow: () => {}, stop: () => {} };
  }
  return socketConnection(token.token, client, facade, options);
}

/** A WebSocket to the agent's /api, presenting the token; closed, it is opened again after a backoff. */
function socketConnection(token: string, client: Client, facade: Facade, options: ConnectOptions): Connection {
  let stopped = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let socket: WebSocket | null = null;

  const open = () => {
    timer = null;
    if (stopped) return;
    options.onStatus({ phase: 'connecting', transport: 'websocket' });
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${API_PATH}`, [API_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token]);
    socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      attempt = 0;
      const transport = wsTransport(ws, options.warn);
      transport.onEvent(facade.forward);
      facade.use(transport);
      options.onStatus({ phase: 'connected', transport: 'websocket' });
      options.onConnected(client);
    });
    ws.addEventListener('close', (e: CloseEvent) => {
      if (socket === ws) socket = null;
      facade.use(null);
      if (stopped) return;
      const delay = backoffDelayMs(attempt++);
      if (opened) {
        options.onStatus({ phase: 'reconnecting', attempt, retryAt: Date.now() + delay, reason: `the connection closed (code ${e.code})` });
        timer = setTimeout(open, delay);
        return;
      }
      // A WebSocket refused during the handshake looks the same to a page as an agent that is
      // down; ask the agent's web server whether it is up to tell the two apart.
      void agentAnswersHttp().then((up) => {
        if (stopped) return;
        const retryAt = Date.now() + delay;
        options.onStatus(up ? { phase: 'rejected', attempt, retryAt } : { phase: 'reconnecting', attempt, retryAt, reason: 'the agent is not answering' });
        timer = setTimeout(open, delay);
      });
    });
  };
  open();

  return {
    client,
    retryNow() {
      if (stopped || socket) return;
      if (timer) clearTimeout(timer);
      attempt = 0;
      open();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}

/** The API's transport over an open WebSocket, its answers and events checked against the contract. */
function wsTransport(ws: WebSocket, warn: ConnectOptions['warn']): Transport {
  return validatingTransport(
    socketTransport({
      send: (data) => ws.send(data),
      onMessage: (listener) => ws.addEventListener('message', (e: MessageEvent) => typeof e.data === 'string' && listener(e.data)),
      onClose: (listener) => ws.addEventListener('close', (e: CloseEvent) => listener(`code ${e.code}`)),
      close: () => ws.close(),
    }),
    warn,
  );
}

/**
 * The token from the URL fragment (`#token=…`, kept in sessionStorage and removed from the
 * visible URL at once) or, after a reload, from sessionStorage.
 */
function takeToken(): { kind: 'token'; token: string } | { kind: 'missing' | 'malformed' } {
  const fromFragment = tokenFromFragment(location.hash);
  if (fromFragment.kind === 'token') {
    try {
      sessionStorage.setItem(TOKEN_STORAGE_KEY, fromFragment.token);
    } catch {
      // Storage disabled: the token still works for this page load.
    }
    history.replaceState(history.state, '', `${location.pathname}${location.search}${fromFragment.rest}`);
    return { kind: 'token', token: fromFragment.token };
  }
  if (fromFragment.kind === 'malformed') {
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    return { kind: 'malformed' };
  }
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {}
  return isPlausibleToken(stored) ? { kind: 'token', token: stored } : { kind: 'missing' };
}

async function agentAnswersHttp(): Promise<boolean> {
  try {
    const response = await fetch(`${location.origin}/`, { method: 'HEAD', cache: 'no-store' });
    return response.status > 0;
  } catch {
    return false;
  }
}
