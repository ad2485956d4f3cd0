/**
 * The pure rules that bound what a lying peer gains (issue 16): what a buyer pays for a report,
 * the malformed-message count, the score tiers, and who the market is in a sign-in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAY_SKEW_S, payableSeconds } from '../../../buyer/index.js';
import { scoreTier } from '../../../market/matching.js';
import { challengeSite, marketIdentity } from '../../../market/sign-in.js';
import { MALFORMED_LIMIT, MalformedCounter } from '../../../protocol/frames.js';

describe('payableSeconds', () => {
  it('pays an honest report in full and caps one ahead of the clock, saying why', () => {
    expect(payableSeconds(30, { startedAt: 0, paidSeconds: 0, paidAt: null, now: 30_400 })).toEqual({ seconds: 30, problem: null });
    expect(payableSeconds(14, { startedAt: 0, paidSeconds: 0, paidAt: null, now: 0 })).toEqual({ seconds: PAY_SKEW_S, problem: expect.stringMatching(/^paid 2 s of the 14 s claimed: it claims 14 s, but only 0 s have passed since the job started/) });
    // A pause is not claimed later: growth since the last paid report is bounded by the time since it.
    expect(payableSeconds(100, { startedAt: 0, paidSeconds: 40, paidAt: 90_000, now: 100_000 })).toMatchObject({ seconds: 40 + 10 + PAY_SKEW_S, problem: expect.stringMatching(/60 s more than the last paid report, but only 10 s have passed since it/) });
  });

  it('whatever a provider claims and whenever, the total paid never exceeds the wall time since the start plus the skew, and never goes down', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 60 }), (steps) => {
        let now = 1_000_000;
        const startedAt = now;
        let paidSeconds = 0;
        let paidAt: number | null = null;
        let claimed = 0;
        for (const [dt, more] of steps) {
          now += dt;
          claimed += more;
          const pay = payableSeconds(claimed, { startedAt, paidSeconds, paidAt, now });
          expect(pay.seconds).toBeGreaterThanOrEqual(paidSeconds);
          expect(pay.seconds).toBeLessThanOrEqual(Math.floor((now - startedAt) / 1000) + PAY_SKEW_S);
          expect(pay.seconds).toBeLessThanOrEqual(Math.max(paidSeconds, claimed));
          paidSeconds = pay.seconds;
          paidAt = now;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('MalformedCounter', () => {
  it('closes on 20 in a row, on 19 bad then 1 good repeated (in the second round), and never on one bad in three', () => {
    const run = (pattern: boolean[], rounds: number) => {
      const c = new MalformedCounter();
      let n = 0;
      for (let r = 0; r < rounds; r++) for (const bad of pattern) {
        n += 1;
        if (c.record(bad)) return n;
      }
      return null;
    };
    expect(run(Array(20).fill(true), 1)).toBe(20);
    expect(run([...Array(MALFORMED_LIMIT - 1).fill(true), false], 100)).toBeLessThanOrEqual(2 * MALFORMED_LIMIT);
    expect(run([true, false, false], 10_000)).toBeNull();
  });
});

describe('scoreTier', () => {
  it('tiers of ×2, null for no benchmark', () => {
    expect([null, 0, 1, 1.9, 2, 100, 127, 128, 8200, 10_000].map(scoreTier)).toEqual([null, 0, 0, 0, 1, 6, 6, 7, 13, 13]);
  });
});

describe('who the market is in a sign-in', () => {
  it('names its public URL whatever Host a peer sends, and its own loopback names when none is set', () => {
    const pub = marketIdentity('wss://market.example.com', 8600);
    expect(challengeSite(pub, 'relay.example.net:443', '/v1/provider')).toEqual({ domain: 'market.example.com', uri: 'wss://market.example.com/v1/provider' });
    expect(challengeSite(pub, undefined, '/v1/buyer')).toEqual({ domain: 'market.example.com', uri: 'wss://market.example.com/v1/buyer' });
    const local = marketIdentity(null, 8600);
    expect(challengeSite(local, 'localhost:8600', '/v1/buyer')).toEqual({ domain: 'localhost:8600', uri: 'ws://localhost:8600/v1/buyer' });
    expect(challengeSite(local, '127.0.0.1:9999', '/v1/buyer')).toEqual({ domain: '127.0.0.1:8600', uri: 'ws://127.0.0.1:8600/v1/buyer' });
    expect(() => marketIdentity('http://market.example.com', 1)).toThrow(/wss:\/\//);
    expect(() => marketIdentity('wss://u:p@market.example.com', 1)).toThrow(/scheme and host only/);
    expect(() => marketIdentity('not a url', 1)).toThrow(/not a URL/);
  });
});
