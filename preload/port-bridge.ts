/**
 * `window.offshift` over a MessagePort to the agent, in the preload's isolated world.
 * Requests made before the first port arrives (or while the agent restarts) wait in a queue;
 * when main hands over a new port the bridge switches to it, and event listeners carry on.
 * Pure (no electron): preload.ts wires it to ipcRenderer and contextBridge.
 */
import type { OffshiftBridge } from '../runtime/api/bridge.js';
import type { Transport } from '../runtime/api/client.js';
import { socketTransport } from '../runtime/api/transports/socket-client.js';
import type { AgentStatusMessage } from './channels.js';

/** What the bridge needs of a port: a DOM MessagePort in the preload, a worker_threads one in tests. */
export interface PortLike {
  postMessage(message: string): void;
  addEventListener(type: 'message' | 'close', listener: (event: { data?: unknown }) => void): void;
  start(): void;
  close(): void;
}

type Response = Awaited<ReturnType<Transport['request']>>;

interface Queued {
  command: string;
  input: unknown;
  resolve: (response: Response) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface PortBridge {
  /** What preload exposes as `window.offshift`. */
  readonly api: OffshiftBridge;
  /** A new port from main (the first one, or one to a restarted agent). */
  attachPort(port: PortLike): void;
  /** main says the agent is restarting or has failed for good. */
  agentStatus(message: AgentStatusMessage): void;
}

export const QUEUE_TIMEOUT_MS = 20_000;

type Listener = (event: string, payload: unknown) => void;

const unavailable = (message: string): Response => ({ ok: false, error: { code: 'agent-unavailable', message } });

/** Sends an event to every page listener; one failing listener must not stop the others. */
function emitter(listeners: Set<Listener>): Listener {
  return (event, payload) => {
    for (const l of [...listeners]) {
      try {
        l(event, payload);
      } catch {
        // One failing page listener must not stop the others.
      }
    }
  };
}

/** The requests waiting for a port: each answered `agent-unavailable` after `timeoutMs`. */
function createQueue(timeoutMs: number) {
  const queue: Queued[] = [];
  return {
    wait(command: string, input: unknown): Promise<Response> {
      return new Promise<Response>((resolve) => {
        const entry: Queued = {
          command,
          input,
          resolve,
          timer: setTimeout(() => {
            const i = queue.indexOf(entry);
            if (i >= 0) queue.splice(i, 1);
            resolve(unavailable(`The agent did not answer within ${Math.round(timeoutMs / 1000)} s: it is starting or restarting. Try again in a moment.`));
          }, timeoutMs),
        };
        queue.push(entry);
      });
    },
    /** Sends the waiting requests to the transport in use, while there is one. */
    flush(transport: () => Transport | null) {
      for (let t = transport(); t && queue.length > 0; t = transport()) {
        const q = queue.shift()!;
        clearTimeout(q.timer);
        void t.request(q.command, q.input).then(q.resolve);
      }
    },
    fail(message: string) {
      for (const q of queue.splice(0)) {
        clearTimeout(q.timer);
        q.resolve(unavailable(message));
      }
    },
  };
}

/**
 * The API's transport over `port`, its events sent to `emit`. `end` closes it once: its in-flight
 * requests get a `disconnected` answer, and `onEnd` lets the bridge stop using it.
 */
function portTransport(port: PortLike, emit: Listener, onEnd: (transport: Transport, end: (reason: string) => void) => void) {
  let closeListener: ((reason: string) => void) | null = null;
  const transport = socketTransport({
    send: (data) => port.postMessage(data),
    onMessage: (listener) =>
      port.addEventListener('message', (event) => {
        if (typeof event.data === 'string') listener(event.data);
      }),
    onClose: (listener) => {
      closeListener = listener;
    },
    close: () => port.close(),
  });
  const detach = transport.onEvent(emit);
  let ended = false;
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    detach();
    onEnd(transport, end);
    closeListener?.(reason);
    port.close();
  };
  port.addEventListener('close', () => end('the agent process stopped'));
  port.start();
  return { transport, end };
}

/** `window.offshift`: a request goes to the transport in use, waits for one, or is refused when the agent failed for good. */
function bridgeApi(listeners: Set<Listener>, state: { transport: () => Transport | null; failure: () => string | null; wait: (command: string, input: unknown) => Promise<Response> }): OffshiftBridge {
  return {
    request(command, input) {
      if (typeof command !== 'string' || command.length === 0) {
        return Promise.resolve({ ok: false, error: { code: 'bad-request', message: 'The command must be a non-empty string.' } });
      }
      const transport = state.transport();
      if (transport) return transport.request(command, input);
      const failure = state.failure();
      if (failure !== null) return Promise.resolve(unavailable(failure));
      return state.wait(command, input);
    },
    onEvent(listener) {
      if (typeof listener !== 'function') throw new TypeError('onEvent needs a function.');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

export function createPortBridge(options: { queueTimeoutMs?: number } = {}): PortBridge {
  const listeners = new Set<Listener>();
  const emit = emitter(listeners);
  const queue = createQueue(options.queueTimeoutMs ?? QUEUE_TIMEOUT_MS);
  let transport: Transport | null = null;
  let failure: string | null = null;
  /** main said the agent was restarting: tell the page when it is back. */
  let restarting = false;

  /** Ends the current connection: its in-flight requests get a `disconnected` answer. */
  let endCurrent: ((reason: string) => void) | null = null;
  const endConnection = (reason: string) => {
    const end = endCurrent;
    endCurrent = null;
    end?.(reason);
  };

  const api = bridgeApi(listeners, { transport: () => transport, failure: () => failure, wait: queue.wait });

  return {
    api,
    attachPort(port) {
      endConnection('the agent restarted');
      failure = null;
      const current = portTransport(port, emit, (ended, end) => {
        if (transport === ended) transport = null;
        if (endCurrent === end) endCurrent = null;
      });
      transport = current.transport;
      endCurrent = current.end;
      queue.flush(() => transport);
      if (restarting) {
        restarting = false;
        emit('notice', { level: 'info', title: 'The agent is running again', message: 'Offshift restarted its agent and the dashboard is connected to it again.' });
      }
    },
    agentStatus(message) {
      emit('notice', message.notice);
      // main says this only after the agent exited: its port is dead, so stop using it now
      // (in-flight requests get a `disconnected` answer) and queue new ones for the next agent.
      endConnection('the agent process stopped');
      restarting = message.status === 'restarting';
      if (message.status === 'failed') {
        failure = message.notice.message;
        queue.fail(failure);
      }
    },
  };
}
