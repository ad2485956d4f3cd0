/**
 * The desktop app attached to the Offshift system service instead of hosting its own agent:
 * each window (and main's own client) gets a MessagePort, as with the embedded agent, piped to
 * one authenticated WebSocket to the service (the headless transport, with the group-readable
 * token). The page cannot tell the two apart. When the service goes away, every pipe closes and
 * the link reconnects with backoff, telling the windows (`restarting`), like an agent restart.
 */
import { MessageChannelMain } from 'electron';
import WebSocket from 'ws';
import { API_PATH, API_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../runtime/api/transports/websocket-server.js';
import { CHANNELS, type AgentStatusMessage, type PortMessage } from '../../preload/channels.js';
import type { AgentState } from '../../runtime/agent/schema.js';
import { isAppPage, type AgentHostStatus, type AgentLinkHost, type HostLog, type PortTarget } from './agent-host.js';

export interface ServiceLinkOptions {
  port: number;
  token: string;
  log: HostLog;
  onStatus?: (status: AgentHostStatus) => void;
  onAgentState?: (state: AgentState) => void;
  /** Reconnect delays: base, doubling, capped. */
  retryMs?: { base: number; max: number };
}

interface Pipe {
  ws: WebSocket;
  close(): void;
}

export class ServiceLink implements AgentLinkHost {
  private readonly targets = new Map<number, PortTarget>();
  private readonly pipes = new Map<number, Pipe>();
  private stopped = false;
  private up = false;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watcher: WebSocket | null = null;
  generation = 0;

  constructor(private readonly options: ServiceLinkOptions) {}

  get running(): boolean {
    return this.up;
  }

  start(): void {
    if (this.stopped || this.watcher) return;
    this.options.onStatus?.({ status: 'starting' });
    this.openWatcher();
  }

  /** The service's agent has no use for the desktop's idle time: it reads the session's own. */
  sendIdle(): void {}

  connect(target: PortTarget): void {
    this.targets.set(target.id, target);
    if (this.up) this.pipe(target);
  }

  disconnect(target: PortTarget): void {
    this.targets.delete(target.id);
    this.pipes.get(target.id)?.close();
    this.pipes.delete(target.id);
  }

  /** Detaches; the service keeps running (and keeps its jobs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const p of this.pipes.values()) p.close();
    this.pipes.clear();
    this.watcher?.close();
    this.watcher = null;
    this.up = false;
    this.options.onStatus?.({ status: 'stopped' });
  }

  private socket(): WebSocket {
    return new WebSocket(`ws://127.0.0.1:${this.options.port}${API_PATH}`, [API_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + this.options.token], { handshakeTimeout: 3000 });
  }

  /** One connection of main's own that follows the agent's state and notices the service going away. */
  private openWatcher(): void {
    const ws = this.socket();
    this.watcher = ws;
    ws.on('open', () => {
      this.failures = 0;
      this.up = true;
      this.generation += 1;
      this.options.log.info('attached to the Offshift service', { port: this.options.port, generation: this.generation });
      this.options.onStatus?.({ status: 'running', pid: null });
      ws.send(JSON.stringify({ type: 'request', id: 1, command: 'agent.state', input: {} }));
      for (const t of this.targets.values()) this.pipe(t);
    });
    ws.on('message', (data) => {
      try {
        const m = JSON.parse(data.toString()) as { type?: string; event?: string; payload?: unknown; id?: number; ok?: boolean; result?: unknown };
        const state = m.type === 'event' && m.event === 'agent.state' ? m.payload : m.type === 'response' && m.id === 1 && m.ok ? m.result : null;
        if (state) this.options.onAgentState?.(state as AgentState);
      } catch {
        // Ignored: the pages parse their own messages.
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.watcher !== ws) return;
      this.watcher = null;
      const wasUp = this.up;
      this.up = false;
      for (const p of this.pipes.values()) p.close();
      this.pipes.clear();
      if (this.stopped) return;
      this.failures += 1;
      const retry = this.options.retryMs ?? { base: 500, max: 15_000 };
      const delayMs = Math.min(retry.max, retry.base * 2 ** Math.min(10, this.failures - 1));
      if (wasUp) this.options.log.warn('lost the Offshift service; reconnecting', { delayMs });
      this.options.onStatus?.({ status: 'restarting', delayMs, exitCode: 0 });
      this.broadcast({
        status: 'restarting',
        notice: { level: 'warn', title: 'Lost the Offshift service', message: `The system service does not answer; retrying in about ${Math.max(1, Math.round(delayMs / 1000))} s. \`offshift service status\` says why.` },
      });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.stopped) this.openWatcher();
      }, delayMs);
    });
  }

  private broadcast(message: AgentStatusMessage): void {
    for (const t of this.targets.values()) if (!t.isDestroyed()) t.send(CHANNELS.agentStatus, message);
  }

  /** A MessagePort for `target`, piped to its own WebSocket to the service. */
  private pipe(target: PortTarget): void {
    this.pipes.get(target.id)?.close();
    if (target.isDestroyed()) {
      this.targets.delete(target.id);
      return;
    }
    if (!isAppPage(target.getURL())) {
      this.options.log.warn('refused an agent port to a page outside the app', { url: target.getURL().slice(0, 200) });
      return;
    }
    const { port1, port2 } = new MessageChannelMain();
    const ws = this.socket();
    const queued: string[] = [];
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      port1.close();
      ws.close();
    };
    port1.on('message', (e) => {
      const text = typeof e.data === 'string' ? e.data : '';
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
      else if (queued.length < 1000) queued.push(text);
    });
    port1.on('close', close);
    ws.on('open', () => {
      for (const text of queued.splice(0)) ws.send(text);
    });
    ws.on('message', (data) => {
      if (!closed) port1.postMessage(data.toString());
    });
    ws.on('error', () => {});
    ws.on('close', close);
    port1.start();
    this.pipes.set(target.id, { ws, close });
    target.postMessage(CHANNELS.port, { generation: this.generation } satisfies PortMessage, [port2]);
  }
}
