/**
 * The agent's side of the desktop app, inside the utilityProcess: serves every MessagePort that
 * main hands over (one per window load) with the same `serveConnection` the WebSocket uses, and
 * reports the agent's state to main (for the tray). Plain node: never imports electron.
 */
import type { Dispatch } from '../../runtime/api/dispatcher.js';
import type { EventBus } from '../../runtime/api/events.js';
import { serveConnection } from '../../runtime/api/transports/serve-connection.js';
import type { AgentState } from '../../runtime/agent/schema.js';
import { mainToAgentSchema, type AgentToMain } from './messages.js';

/** Electron's MessagePortMain, as far as the agent uses it. */
export interface AgentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  postMessage(message: string): void;
  close(): void;
}

/** Electron's `process.parentPort` in a utilityProcess. */
export interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown; ports: readonly AgentPortLike[] }) => void): unknown;
  postMessage(message: AgentToMain): void;
}

export interface ServedAgent {
  dispatch: Dispatch;
  bus: EventBus;
  state: { readonly value: AgentState };
  stop(): Promise<void>;
}

export interface ServeAgentOptions {
  parentPort: ParentPortLike;
  agent: ServedAgent;
  /** Called after a requested shutdown has stopped the agent. */
  exit: (code: number) => void;
  warn?: (message: string, fields?: Record<string, unknown>) => void;
  /** Input idle seconds forwarded by main (Electron's powerMonitor). */
  onIdle?: (seconds: number) => void;
}

export function serveAgent(options: ServeAgentOptions): { connections(): number } {
  const { parentPort, agent } = options;
  const open = new Set<() => void>();
  let stopping = false;

  agent.bus.subscribe((event, payload) => {
    if (event === 'agent.state') parentPort.postMessage({ type: 'state', state: payload as AgentState });
  });

  parentPort.on('message', (event) => {
    const parsed = mainToAgentSchema.safeParse(event.data);
    if (!parsed.success) {
      options.warn?.('ignored a malformed message from main');
      return;
    }
    const message = parsed.data;
    if (message.type === 'idle') {
      options.onIdle?.(message.seconds);
      return;
    }
    if (message.type === 'shutdown') {
      if (stopping) return;
      stopping = true;
      for (const detach of open) detach();
      open.clear();
      agent.stop().then(
        () => options.exit(0),
        () => options.exit(1),
      );
      return;
    }
    const port = event.ports[0];
    if (!port) {
      options.warn?.('a connect message came without a port', { connectionId: message.connectionId });
      return;
    }
    let closed = false;
    const detach = serveConnection(
      agent.dispatch,
      agent.bus,
      (response) => {
        if (!closed) port.postMessage(JSON.stringify(response));
      },
      (handler) =>
        port.on('message', (e) => {
          handler(typeof e.data === 'string' ? e.data : '');
        }),
    );
    const close = () => {
      if (closed) return;
      closed = true;
      detach();
      open.delete(close);
    };
    open.add(close);
    port.on('close', close);
    port.start();
  });

  parentPort.postMessage({ type: 'state', state: agent.state.value });
  return { connections: () => open.size };
}
