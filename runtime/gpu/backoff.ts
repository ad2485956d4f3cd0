export interface BackoffOptions {
  /** First delay after a failure (default 1 s). */
  initialMs: number;
  /** The longest delay (default 60 s). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

/** Delay before restart number `attempt` (1, 2, 3…): initial, 2×, 4×… capped at max. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
}
