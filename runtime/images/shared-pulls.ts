/**
 * Pulls in progress, one per image however many wait for it: a job waits as one of its waiters
 * and may leave (it was stopped); the pull is aborted when its last waiter leaves, unless
 * downloads may go on (the owner allows them while at the computer), so the image is warm next time.
 */
import { AppError } from '../errors.js';
import type { PullOutcome, PullTick } from './pull.js';

export interface Inflight {
  ref: string;
  controller: AbortController;
  waiters: number;
  promise: Promise<PullOutcome>;
  tick: PullTick | null;
  /** The job it was started for (null: a pre-pull). */
  jobId: string | null;
  startedAt: number;
  /** Room it holds on disk until it ends. */
  diskBytes: number;
  listeners: Set<(tick: PullTick) => void>;
}

export class SharedPulls {
  private readonly pulls = new Map<string, Inflight>();

  constructor(private readonly now: () => number) {}

  get(ref: string): Inflight | undefined {
    return this.pulls.get(ref);
  }

  has(ref: string): boolean {
    return this.pulls.has(ref);
  }

  all(): Inflight[] {
    return [...this.pulls.values()];
  }

  refs(): Set<string> {
    return new Set(this.pulls.keys());
  }

  /** The pull of `ref` in progress, or a new one run by `run`; `ended` when it is over, either way. */
  start(ref: string, jobId: string | null, run: (p: Inflight) => Promise<PullOutcome>, ended: () => void): Inflight {
    const existing = this.pulls.get(ref);
    if (existing) return existing;
    const p: Inflight = { ref, controller: new AbortController(), waiters: 0, tick: null, jobId, startedAt: this.now(), diskBytes: 0, listeners: new Set(), promise: Promise.resolve(null as never) };
    p.promise = run(p).finally(() => {
      this.pulls.delete(ref);
      ended();
    });
    p.promise.catch(() => {});
    this.pulls.set(ref, p);
    return p;
  }

  /** Tells every waiter of the pull how far it is. */
  tick(p: Inflight, tick: PullTick): void {
    p.tick = tick;
    for (const l of p.listeners) l(tick);
  }

  /** Waits for the pull as one of its waiters; a waiter that leaves (`signal`) aborts it when it was the last and `mayGoOn()` says no. */
  async wait(p: Inflight, onTick: (tick: PullTick) => void, signal: AbortSignal, mayGoOn: () => boolean): Promise<PullOutcome> {
    p.waiters++;
    p.listeners.add(onTick);
    if (p.tick) onTick(p.tick);
    let onAbort = () => {};
    const left = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AppError('image-pull-stopped', 'The job was stopped while its image was pulled.'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([p.promise, left]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      p.listeners.delete(onTick);
      p.waiters--;
      if (p.waiters === 0 && signal.aborted && !mayGoOn()) p.controller.abort();
    }
  }

  /** Aborts the pulls no job waits for (pre-pulls), or every pull. */
  abort(which: 'unwaited' | 'all'): void {
    for (const p of this.pulls.values()) if (which === 'all' || p.waiters === 0) p.controller.abort();
  }
}
