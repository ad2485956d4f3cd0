/**
 * The sockets of the dashboard's server that have not shown the token: page loads, requests
 * whose headers are still arriving, idle keep-alives. Any web page the owner visits can open
 * such sockets and trickle their headers (slowloris); with a plain cap on sockets, a flood of
 * them locked the owner out for as long as it was held. Here the pool is capped and full means
 * the OLDEST is closed to make room: a new socket is always taken, and the owner's request
 * (headers sent at once) is answered before a flood's newer sockets can push it out. A socket
 * whose answer is being sent (a page's script on its way) goes last for its first
 * ANSWER_GRACE_MS, so a flood does not cut a page load short, nor can a reader that never reads
 * hold its place. A socket that shows the token (an authenticated WebSocket) leaves the pool
 * and is never evicted.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../log.js';

/** How long a socket whose answer is on its way is evicted after the others. */
export const ANSWER_GRACE_MS = 10_000;
/** A flood is logged at most this often (with how many sockets it cost). */
const LOG_EVERY_MS = 60_000;

export class UnauthenticatedSockets {
  /** In the order they came (a Set iterates in insertion order): the first is the oldest. */
  private readonly sockets = new Set<Duplex>();
  /** Sockets whose request is being answered, and since when. */
  private readonly answering = new Map<Duplex, number>();
  private evicted = 0;
  private loggedAt = 0;

  constructor(
    private readonly cap: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sockets.size;
  }

  add(socket: Duplex): void {
    while (this.sockets.size >= this.cap) {
      const victim = this.oldestIdle() ?? (this.sockets.values().next().value as Duplex);
      this.delete(victim);
      victim.destroy();
      this.evicted++;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.delete(socket));
    if (this.evicted > 0 && this.now() - this.loggedAt >= LOG_EVERY_MS) {
      this.log.warn('many connections to the dashboard without the token: the oldest are closed to keep room for new ones', { closed: this.evicted, cap: this.cap });
      this.loggedAt = this.now();
      this.evicted = 0;
    }
  }

  /** Its request's headers are in and the answer is on its way (until `done`). */
  answeringOn(socket: Duplex): void {
    if (this.sockets.has(socket)) this.answering.set(socket, this.now());
  }

  done(socket: Duplex): void {
    this.answering.delete(socket);
  }

  /** The socket showed the token (or closed): it is no longer one of these. */
  delete(socket: Duplex): void {
    this.sockets.delete(socket);
    this.answering.delete(socket);
  }

  /** The oldest socket that is not answering, or has been for longer than the grace. */
  private oldestIdle(): Duplex | undefined {
    const now = this.now();
    for (const s of this.sockets) {
      const since = this.answering.get(s);
      if (since === undefined || now - since > ANSWER_GRACE_MS) return s;
    }
    return undefined;
  }
}
