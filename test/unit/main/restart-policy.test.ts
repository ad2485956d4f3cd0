import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, decideRestart } from '../../../main/agent/restart-policy.js';

const policy = { baseDelayMs: 500, maxDelayMs: 4000, windowMs: 60_000, maxCrashesInWindow: 6 };

describe('decideRestart', () => {
  it('restarts quickly after a first crash', () => {
    expect(decideRestart([1000], 1000, policy)).toEqual({ action: 'restart', delayMs: 500, recentCrashes: 1 });
  });

  it('doubles the delay with each recent crash, up to the cap', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => {
      const crashes = Array.from({ length: n }, (_, i) => i * 10);
      const d = decideRestart(crashes, 100, policy);
      return d.action === 'restart' ? d.delayMs : null;
    });
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  it('gives up after too many crashes within the window, saying what to do', () => {
    const d = decideRestart([0, 1, 2, 3, 4, 5], 10, policy);
    expect(d.action).toBe('give-up');
    if (d.action === 'give-up') {
      expect(d.recentCrashes).toBe(6);
      expect(d.message).toContain('Quit and reopen Offshift');
      expect(d.message).toContain('offshift agent');
    }
  });

  it('forgets crashes older than the window: a long healthy run resets the backoff', () => {
    expect(decideRestart([0, 1, 2, 3, 4, 200_000], 200_000, policy)).toEqual({ action: 'restart', delayMs: 500, recentCrashes: 1 });
  });

  it('has sane defaults', () => {
    expect(DEFAULT_RESTART_POLICY.baseDelayMs).toBeLessThanOrEqual(1000);
    expect(DEFAULT_RESTART_POLICY.maxCrashesInWindow).toBeGreaterThan(1);
  });
});
