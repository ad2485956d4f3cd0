/**
 * Input idle time. The desktop app injects one over Electron's powerMonitor; a headless Linux
 * machine with a graphical session uses logind; otherwise there is none, and the idle rule
 * counts as satisfied ("no idle source: schedule only").
 */
export interface IdleSource {
  /** A few words for the Schedule page and logs, e.g. "logind session 2". */
  readonly description: string;
  /** Seconds since the last input; null when not known (yet). Cheap: called every tick. */
  idleSeconds(): number | null;
  /** Optional push: called when the user comes back, so the loop reacts before its next tick. */
  onActivity?(listener: () => void): () => void;
  start?(): void;
  stop?(): void;
}

/** For tests and the benchmark: set the idle time by hand; `activity()` pushes a return. */
export class ManualIdleSource implements IdleSource {
  readonly description = 'manual';
  private seconds: number | null;
  private readonly listeners = new Set<() => void>();
  constructor(initialSeconds: number | null = 0) {
    this.seconds = initialSeconds;
  }
  idleSeconds(): number | null {
    return this.seconds;
  }
  set(seconds: number | null): void {
    this.seconds = seconds;
  }
  /** The user touched the keyboard: idle time 0, and the loop is told at once. */
  activity(): void {
    this.seconds = 0;
    for (const l of this.listeners) l();
  }
  onActivity(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
