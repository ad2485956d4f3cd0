/**
 * A client transport over anything with the browser WebSocket / MessagePort shape. Pure, so
 * the renderer (browser WebSocket), the CLI (`ws`) and the preload (MessagePort) share it.
 */
import type { Transport } from '../client.js';
import type { ErrorBody } from '../../errors.js';

export interface MessageChannelLike {
  send(data: string): void;
  /** Called with each raw incoming message. */
  onMessage(listener: (data: string) => void): void;
  /** Called once when the channel closes. */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

type Pending = { resolve: (value: Awaited<ReturnType<Transport['request']>>) => void };

export function socketTransport(channel: MessageChannelLike): Transport {
  let nextId = 1;
  let closedReason: string | null = null;
  const pending = new Map<number, Pending>();
  const listeners = new Set<(event: string, payload: unknown) => void>();

  channel.onMessage((data) => {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as { type?: unknown; id?: unknown; event?: unknown; payload?: unknown; ok?: unknown; result?: unknown; error?: ErrorBody };
    if (m.type === 'event' && typeof m.event === 'string') {
      for (const l of listeners) l(m.event, m.payload);
    } else if (m.type === 'response' && typeof m.id === 'number') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      p.resolve(m.ok === true ? { ok: true, result: m.result } : { ok: false, error: m.error ?? { code: 'internal', message: 'Malformed response.' } });
    }
  });
  channel.onClose((reason) => {
    closedReason = reason;
    for (const p of pending.values()) p.resolve({ ok: false, error: { code: 'disconnected', message: `Lost the connection to the agent (${reason}). Is it still running?` } });
    pending.clear();
  });

  return {
    request(command, input) {
      if (closedReason !== null) {
        return Promise.resolve({ ok: false, error: { code: 'disconnected', message: `Not connected to the agent (${closedReason}).` } });
      }
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, { resolve });
        channel.send(JSON.stringify({ type: 'request', id, command, input }));
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      channel.close();
    },
  };
}
