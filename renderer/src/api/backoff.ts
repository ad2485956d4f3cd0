/** Reconnect delays: 0.5 s, 1 s, 2 s, 4 s … capped at 10 s, with up to 20 % jitter. Pure. */
export function backoffDelayMs(attempt: number, random: () => number = Math.random, baseMs = 500, maxMs = 10_000): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp * (0.8 + 0.2 * random()));
}
