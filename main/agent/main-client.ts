/**
 * main's own connection to the agent (for the tray, notifications and the desktop settings):
 * the same wire protocol as the window, over a MessagePort that the host hands to it like to
 * any window (after each agent restart, a fresh one). Calls made while no port is attached fail
 * at once with `disconnected`; event listeners survive port changes.
 */
import type { MessagePortMain } from 'electron';
import { ApiError, createClient, type Client } from '../../runtime/api/client.js';
import type { CommandInput, CommandName, CommandOutput, EventName, EventPayload } from '../../runtime/api/contract.js';
import { socketTransport } from '../../runtime/api/transports/socket-client.js';
import type { PortTarget } from './agent-host.js';

/** Main's end of an agent port, as far as this uses it. */
export interface PortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  postMessage(message: unknown): void;
  close(): void;
}

export interface MainClient {
  /** A PortTarget for AgentHost.connect (id 0: never a window's). */
  readonly target: PortTarget;
  /** Attaches a port directly (the service link's pipe). */
  attach(port: PortLike): void;
  readonly connected: boolean;
  call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<CommandOutput<K>>;
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
  /** Called after every (re)connection: re-read what the tray shows. */
  onConnect(listener: () => void): () => void;
  close(): void;
}

export function createMainClient(): MainClient {
  let client: Client | null = null;
  let port: PortLike | null = null;
  const listeners = new Set<{ event: EventName; fn: (payload: never) => void }>();
  const connectListeners = new Set<() => void>();
  const unsubscribers: Array<() => void> = [];

  const attach = (next: PortLike) => {
    port?.close();
    for (const u of unsubscribers.splice(0)) u();
    port = next;
    const current = createClient(
      socketTransport({
        send: (data) => next.postMessage(data),
        onMessage: (l) => next.on('message', (e) => l(typeof e.data === 'string' ? e.data : '')),
        onClose: (l) => next.on('close', () => l('port closed')),
        close: () => next.close(),
      }),
    );
    client = current;
    next.on('close', () => {
      if (client === current) client = null;
    });
    next.start();
    for (const l of listeners) unsubscribers.push(current.on(l.event, l.fn as never));
    for (const l of connectListeners) l();
  };

  return {
    target: {
      id: 0,
      isDestroyed: () => false,
      getURL: () => 'app://offshift/main',
      postMessage: (_channel: string, _message: unknown, transfer?: MessagePortMain[]) => {
        const p = transfer?.[0];
        if (p) attach(p as unknown as PortLike);
      },
      send: () => {},
    },
    attach,
    get connected() {
      return client !== null;
    },
    async call(command, input) {
      if (!client) throw new ApiError('disconnected', 'The agent is not connected.');
      return (client.call as (c: string, i: unknown) => Promise<never>)(command, input);
    },
    on(event, fn) {
      const entry = { event, fn: fn as (payload: never) => void };
      listeners.add(entry);
      if (client) unsubscribers.push(client.on(event, fn));
      return () => listeners.delete(entry);
    },
    onConnect(listener) {
      connectListeners.add(listener);
      return () => connectListeners.delete(listener);
    },
    close() {
      port?.close();
      port = null;
      client = null;
    },
  };
}
