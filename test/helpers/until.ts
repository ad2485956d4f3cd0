/** Polling for tests: wait until something becomes true (or gives a value). */

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface UntilOptions {
  /** How often to look again (default 50 ms). */
  intervalMs?: number;
  /** More to say when it times out (a log tail, the current state). */
  detail?: () => string;
}

/**
 * Calls `probe` (sync or async) until it gives a truthy value, and returns that value.
 * Throws `timed out waiting for <what>` after `timeoutMs`.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000, options: UntilOptions = {}): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) {
      const more = options.detail?.();
      throw new Error(`timed out waiting for ${what} (${timeoutMs / 1000} s)${more ? `: ${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}
