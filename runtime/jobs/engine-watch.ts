/**
 * Notices the Docker engine going away (a restart, a crash, an upgrade) while jobs run: one
 * event stream, filtered to this agent's containers, held open while the runner has jobs. When
 * it breaks, the moment is kept; a job whose container died around then died of the engine,
 * not of itself (docs/sandbox.md, "The Docker engine restarted").
 */
import type { Readable } from 'node:stream';
import { containerEvents, engineAnswers, type Engine } from '../engine/index.js';
import type { Logger } from '../log.js';

/** An engine loss this close to a container's exit is taken as its cause. */
export const ENGINE_LOSS_WINDOW_MS = 15_000;

export class EngineWatch {
  private stream: Readable | null = null;
  private lostAt: number | null = null;
  private retry: NodeJS.Timeout | null = null;
  private running = false;
  /** Bumped at each start and stop: a stream of an earlier run that closes late is not a loss. */
  private generation = 0;

  constructor(
    private readonly docker: Engine,
    private readonly label: string,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Opens the stream (idempotent); it reopens by itself after a loss until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.open();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.stream?.destroy();
    this.stream = null;
  }

  /** Notes a loss seen elsewhere (a wait on a container that broke off). */
  lost(at: number = this.now()): void {
    this.lostAt = Math.max(this.lostAt ?? 0, at);
  }

  /** Whether the engine went away within the window around `at`, and not before `since`. */
  lostAround(at: number, since: number, windowMs = ENGINE_LOSS_WINDOW_MS): boolean {
    return this.lostAt !== null && this.lostAt >= since && Math.abs(this.lostAt - at) <= windowMs;
  }

  /** Resolves true once the engine answers again, false after `timeoutMs`. */
  back(timeoutMs: number): Promise<boolean> {
    return engineAnswers(this.docker, timeoutMs);
  }

  private open(): void {
    if (!this.running) return;
    const generation = this.generation;
    const current = () => this.running && this.generation === generation;
    containerEvents(this.docker, this.label)
      .then((stream) => {
        if (!current()) return void stream.destroy();
        this.stream = stream;
        let ended = false;
        const onEnd = () => {
          if (ended) return;
          ended = true;
          if (this.stream === stream) this.stream = null;
          if (!current()) return;
          this.lost();
          this.log.warn('the Docker engine went away');
          this.reopen();
        };
        stream.on('data', () => {});
        stream.on('end', onEnd);
        stream.on('close', onEnd);
        stream.on('error', onEnd);
      })
      .catch(() => {
        if (!current()) return;
        this.lost();
        this.reopen();
      });
  }

  private reopen(): void {
    if (this.retry || !this.running) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.open();
    }, 500);
    this.retry.unref?.();
  }
}
