/**
 * Job records that a full disk refused: kept in memory, in order, and written once space returns
 * (tried again every few seconds), so that a full disk never costs a job its end. Everything
 * else about the job goes on meanwhile (its container ends and is removed); what waits here is
 * only what must reach the disk, and each job's waiters learn its end once it is written.
 */
import type { Logger } from '../log.js';
import { isDiskFull } from '../storage/disk-full.js';

export interface DeferredTask {
  jobId: string;
  /** What the task writes, for the log ("succeeded (exit-0)", "its /output"). */
  what: string;
  run: () => void | Promise<void>;
}

export const DEFERRED_RETRY_MS = 2000;

export class DeferredWrites {
  private readonly queue: DeferredTask[] = [];
  private readonly waiters = new Map<string, Array<() => void>>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Since when the disk has refused (null while it takes every write). */
  private fullSince: number | null = null;

  constructor(
    private readonly log: Logger,
    private readonly retryMs = DEFERRED_RETRY_MS,
  ) {}

  /** Writes now; when the disk is full (or earlier writes still wait: order is kept), later. Other errors are thrown. */
  write(task: Omit<DeferredTask, 'run'> & { run: () => void }): void {
    if (this.queue.length === 0) {
      try {
        task.run();
        return;
      } catch (error) {
        if (!isDiskFull(error)) throw error;
      }
    }
    this.keep(task);
  }

  /** A task that the full disk has already refused once: tried again with the rest, in order. */
  keep(task: DeferredTask): void {
    this.queue.push(task);
    if (this.fullSince === null) {
      this.fullSince = Date.now();
      this.log.warn('the disk that holds the data folder is full: job records wait in memory and are written once space returns', { jobId: task.jobId, waiting: task.what });
    }
    this.schedule();
  }

  /** Whether something of this job still waits for the disk. */
  pending(jobId: string): boolean {
    return this.queue.some((t) => t.jobId === jobId);
  }

  /** Resolves once nothing of this job waits for the disk (at once when nothing does). */
  settled(jobId: string): Promise<void> {
    if (!this.pending(jobId)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), resolve]));
  }

  /** Tries what waits, in order, until the disk refuses again. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.queue.length > 0 && !this.closed) {
        const task = this.queue[0]!;
        try {
          await task.run();
        } catch (error) {
          if (isDiskFull(error)) return this.schedule();
          this.log.error('a job record kept while the disk was full could not be written', { jobId: task.jobId, what: task.what, error });
        }
        this.queue.shift();
        if (!this.pending(task.jobId)) this.release(task.jobId);
      }
      if (this.fullSince !== null && this.queue.length === 0) {
        this.log.info('space is back: the job records kept in memory are written', { fullForMs: Date.now() - this.fullSince });
        this.fullSince = null;
      }
    })().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /**
   * The agent stops: one last try, then what is left is said (each job's record stays as it was
   * last written; the next start's recovery closes it) and its waiters are let go.
   */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    for (const task of this.queue) this.log.error('the disk stayed full: a job record could not be written before the agent stopped', { jobId: task.jobId, what: task.what });
    const ids = new Set(this.queue.map((t) => t.jobId));
    this.queue.length = 0;
    for (const id of ids) this.release(id);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.retryMs);
    this.timer.unref?.();
  }

  private release(jobId: string): void {
    const waiting = this.waiters.get(jobId) ?? [];
    this.waiters.delete(jobId);
    for (const resolve of waiting) resolve();
  }
}
