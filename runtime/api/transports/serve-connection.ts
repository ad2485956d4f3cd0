import type { Dispatch } from '../dispatcher.js';
import type { EventBus } from '../events.js';
import { parseRequest, type RequestMessage, type ServerMessage } from '../protocol.js';

/** What one connection may ask of the agent at once: a flood is answered, never queued without bound. */
export interface ConnectionLimits {
  /** Requests dispatched and not yet answered; more wait in a queue. */
  maxInFlight: number;
  /** Requests waiting for one in flight to end; more are answered `busy` at once. */
  maxQueued: number;
  /** Sustained requests per second (a token bucket); more are answered `rate-limited`. */
  ratePerSecond: number;
  /** The bucket's size: a burst a dashboard's page load may need. */
  burst: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxInFlight: 16, maxQueued: 256, ratePerSecond: 200, burst: 400 };

/** The id of a request, read cheaply without parsing it (-1 when there is none to read). */
function idOf(raw: string): number {
  const m = /^\s*\{[^{}[\]]*?"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(raw.slice(0, 200));
  return m ? Number(m[1]) : -1;
}

/**
 * Serves one client connection, whatever carries it (a WebSocket, an Electron MessagePort):
 * parses each raw message, dispatches it and sends the response; forwards every event.
 * Returns a function that detaches the connection from the event stream.
 */
export function serveConnection(
  dispatch: Dispatch,
  bus: EventBus,
  send: (message: ServerMessage) => void,
  onMessage: (handler: (raw: string) => void) => void,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  now: () => number = () => Date.now(),
): () => void {
  let inFlight = 0;
  const queue: RequestMessage[] = [];
  const run = (request: RequestMessage) => {
    inFlight++;
    void dispatch(request.command, request.input)
      .catch((error: unknown) => ({ ok: false as const, error: { code: 'internal', message: `Unexpected error: ${error instanceof Error ? error.message : String(error)}.` } }))
      .then((response) => {
        inFlight--;
        const next = queue.shift();
        if (next) run(next);
        send({ type: 'response', id: request.id, ...response });
      });
  };
  let tokens = limits.burst;
  let refilledAt = now();
  const takeToken = (): boolean => {
    const t = now();
    tokens = Math.min(limits.burst, tokens + ((t - refilledAt) / 1000) * limits.ratePerSecond);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  onMessage((raw) => {
    // Malformed messages count too: garbage costs a parse.
    if (!takeToken()) {
      send({ type: 'response', id: idOf(raw), ok: false, error: { code: 'rate-limited', message: `Too many requests: at most ${limits.ratePerSecond} a second. Wait a moment and retry.` } });
      return;
    }
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      send(parsed.response);
      return;
    }
    const { id } = parsed.request;
    if (inFlight < limits.maxInFlight) run(parsed.request);
    else if (queue.length < limits.maxQueued) queue.push(parsed.request);
    else send({ type: 'response', id, ok: false, error: { code: 'busy', message: `Too many requests waiting (at most ${limits.maxInFlight + limits.maxQueued}): wait for answers before sending more.` } });
  });
  return bus.subscribe((event, payload) => send({ type: 'event', event, payload }));
}
