/**
 * Connections not signed in yet (plain HTTP reads included), per remote address: past the limit a
 * new one is answered 503 and closed; each is closed at the sign-in deadline. Signing in releases
 * it. Connections per address, signed in or not, are capped too.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../runtime/log.js';

export interface ConnectionLimitOptions {
  signInDeadlineMs: number;
  maxUnauthenticatedPerAddress: number;
  maxUnauthenticated: number;
  maxConnectionsPerAddress: number;
}

/** One less of `key` in `counts` (the entry goes at zero). */
function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

export class ConnectionLimits {
  private readonly waiting = new Map<string, number>();
  private readonly connected = new Map<string, number>();
  private waitingTotal = 0;
  private readonly releases = new WeakMap<Socket, () => void>();
  private readonly upgraded = new WeakSet<Socket>();
  private readonly openedAt = new WeakMap<Socket, number>();

  constructor(
    private readonly limits: ConnectionLimitOptions,
    private readonly log: Logger,
  ) {}

  /** Counts every connection the server takes, refusing those past the limits. */
  watch(server: http.Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** The socket carries a WebSocket now: its own timer closes it (with a reason) at the deadline. */
  markUpgraded(socket: Socket): void {
    this.upgraded.add(socket);
  }

  /** The socket's peer signed in: it no longer counts as waiting. */
  release(socket: Socket): void {
    this.releases.get(socket)?.();
  }

  /** How long ago the socket connected, ms. */
  age(socket: Socket): number {
    return Date.now() - (this.openedAt.get(socket) ?? Date.now());
  }

  private admit(socket: Socket): void {
    const from = socket.remoteAddress ?? 'unknown';
    const n = this.waiting.get(from) ?? 0;
    const all = this.connected.get(from) ?? 0;
    if (all >= this.limits.maxConnectionsPerAddress) return this.refuse(socket, `Too many connections from ${from} (${all} open)`, 60);
    if (n >= this.limits.maxUnauthenticatedPerAddress || this.waitingTotal >= this.limits.maxUnauthenticated) {
      return this.refuse(socket, `Too many connections from ${from} are waiting to sign in`, Math.ceil(this.limits.signInDeadlineMs / 1000));
    }
    this.connected.set(from, all + 1);
    socket.once('close', () => decrement(this.connected, from));
    this.waiting.set(from, n + 1);
    this.waitingTotal += 1;
    this.openedAt.set(socket, Date.now());
    let held = true;
    const done = () => {
      if (!held) return;
      held = false;
      clearTimeout(deadline);
      this.waitingTotal -= 1;
      decrement(this.waiting, from);
    };
    // A WebSocket is closed by its own timer (with a reason); anything else is cut at the deadline.
    const deadline = setTimeout(() => {
      if (!this.upgraded.has(socket)) socket.destroy();
    }, this.limits.signInDeadlineMs);
    deadline.unref();
    this.releases.set(socket, done);
    socket.once('close', done);
  }

  private refuse(socket: Socket, why: string, retryS: number): void {
    const body = `${why}; try again in ${retryS} s.`;
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: ${retryS}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
    this.log.debug('connection refused', { why });
  }
}
