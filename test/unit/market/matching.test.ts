import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickFromBuckets, pickProvider, providerFloor, ScoreBuckets, unfitReason, type Candidate } from '../../../market/matching.js';
import { jobRequestSchema, type Advertisement } from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';

const market = { chainId: 31337, escrow: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' };
const job = (over: Record<string, unknown> = {}) => jobRequestSchema.parse({ image: 'sha256:' + 'ab'.repeat(32), command: ['x'], pricePerHour: '1000000000000000000', ...over });
const cand = (address: string, ad: Partial<Advertisement> | null, over: Partial<Candidate> = {}): Candidate => ({ address, ad: ad ? makeAd(market, ad) : null, connected: true, reservedSlots: 0, reservedGpus: 0, lastOfferedAt: 0, ...over });

describe('matching', () => {
  it('says why a provider cannot take a job, rule by rule', () => {
    expect(unfitReason(job(), cand('a', {}), market)).toBeNull();
    expect(unfitReason(job(), cand('a', {}, { connected: false }), market)).toBe('disconnected');
    expect(unfitReason(job(), cand('a', null), market)).toBe('no-advertisement');
    expect(unfitReason(job(), cand('a', { availability: { state: 'paused', reason: 'owner' } }), market)).toBe('not-available');
    expect(unfitReason(job(), cand('a', { chainId: 1 }), market)).toBe('wrong-chain');
    expect(unfitReason(job(), cand('a', { slots: 1 }, { reservedSlots: 1 }), market)).toBe('busy');
    expect(unfitReason(job({ gpus: 2 }), cand('a', {}), market)).toBe('not-enough-gpus');
    expect(unfitReason(job({ minVramMiB: 30_000 }), cand('a', {}), market)).toBe('not-enough-vram');
    expect(unfitReason(job({ cpus: 32 }), cand('a', {}), market)).toBe('not-enough-cpus');
    expect(unfitReason(job({ memoryMiB: 100_000 }), cand('a', {}), market)).toBe('not-enough-memory');
    expect(unfitReason(job({ diskMiB: 200_000 }), cand('a', {}), market)).toBe('not-enough-disk');
    expect(unfitReason(job({ maxDurationSeconds: 7200 }), cand('a', { maxJobSeconds: 3600 }), market)).toBe('duration-beyond-window');
    expect(unfitReason(job({ pricePerHour: '1' }), cand('a', {}), market)).toBe('price-below-floor');
    // CPU-only: no GPU needed, the job floor applies.
    expect(unfitReason(job({ gpus: 0 }), cand('a', { gpus: [], freeGpus: 0 }), market)).toBeNull();
  });

  it('the floor is max(minPricePerJobHour, gpus × minPricePerGpuHour)', () => {
    const ad = makeAd(market, { prices: { minPricePerGpuHour: '3', minPricePerJobHour: '7' } });
    expect([0, 1, 2, 3, 4].map((g) => providerFloor(ad, g))).toEqual([7n, 7n, 7n, 9n, 12n]);
  });

  it('buckets by score choose exactly what a full scan chooses', () => {
    const arb = fc.array(
      fc.record({ score: fc.option(fc.integer({ min: 0, max: 5 })), slots: fc.integer({ min: 0, max: 2 }), last: fc.integer({ min: 0, max: 3 }), vram: fc.constantFrom(8192, 24_564, 81_559), gpuPrice: fc.constantFrom('0', '500000000000000000', '2000000000000000000') }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 2 }), fc.constantFrom(0, 16_000, 40_000), (specs, gpus, minVram) => {
        const cands = specs.map((s, i) =>
          cand(`0x${i.toString(16).padStart(40, '0')}`, { score: s.score, slots: s.slots, freeGpus: 2, gpus: [0, 1].map(() => ({ model: 'g', vendor: 'nvidia' as const, vramMiB: s.vram, driver: null, cudaVersion: null, score: null })), prices: { minPricePerGpuHour: s.gpuPrice, minPricePerJobHour: '0' } }, { lastOfferedAt: s.last }),
        );
        const buckets = new ScoreBuckets<Candidate>();
        for (const c of cands) buckets.update(c);
        const j = job({ gpus, minVramMiB: minVram });
        expect(pickFromBuckets(j, buckets.inOrder(), market)?.address ?? null).toBe(pickProvider(j, cands, market)?.address ?? null);
      }),
      { numRuns: 500 },
    );
  });
});
