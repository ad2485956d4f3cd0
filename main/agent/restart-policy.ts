/**
 * When the agent's utilityProcess dies unexpectedly, main restarts it: quickly at first, then
 * backing off, and it gives up (with a clear error) after too many crashes in a short time,
 * rather than spin forever. Pure, so every step is a unit test.
 */
export interface RestartPolicy {
  /** Delay before the first restart. */
  baseDelayMs: number;
  /** Delays double with each recent crash, up to this. */
  maxDelayMs: number;
  /** Crashes older than this no longer count (a long healthy run resets the backoff). */
  windowMs: number;
  /** Give up when this many crashes happened within the window. */
  maxCrashesInWindow: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  windowMs: 5 * 60_000,
  maxCrashesInWindow: 5,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; recentCrashes: number }
  | { action: 'give-up'; recentCrashes: number; message: string };

/** The crash times that still count at `now` (the latest crash included). */
export function recentCrashes(crashTimes: readonly number[], now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number[] {
  return crashTimes.filter((t) => now - t < policy.windowMs);
}

/** `crashTimes` holds every crash so far, the one that just happened included. */
export function decideRestart(crashTimes: readonly number[], now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  const recent = recentCrashes(crashTimes, now, policy).length;
  if (recent >= policy.maxCrashesInWindow) {
    const minutes = Math.round(policy.windowMs / 60_000);
    return {
      action: 'give-up',
      recentCrashes: recent,
      message:
        `The Offshift agent stopped ${recent} times in ${minutes} minute${minutes === 1 ? '' : 's'}, so it was not restarted again. ` +
        'Quit and reopen Offshift to try again; if it keeps stopping, run `offshift agent` in a terminal to see why, and check the agent log.',
    };
  }
  const delayMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, recent - 1));
  return { action: 'restart', delayMs, recentCrashes: recent };
}
