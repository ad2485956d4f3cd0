/** Matching by image, pure: warm first, then room for the image, then the rest; the fast ranking chooses what a full scan does. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageClass, jobImageDigest } from '../../../market/image-ranking.js';
import { pickProvider, rankProviders, type Candidate } from '../../../market/matching.js';
import { ProviderRanking } from '../../../market/ranking.js';
import { jobRequestSchema, type Advertisement } from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';

const market = { chainId: 31337, escrow: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' };
const digest = (n: number) => 'sha256:' + n.toString(16).padStart(64, '0');
const IMAGE = `registry.example/render@${digest(1)}`;
const GIB = 1024 ** 3;
const job = (over: Record<string, unknown> = {}) => jobRequestSchema.parse({ image: IMAGE, command: ['x'], pricePerHour: '1000000000000000000', ...over });
const images = (digests: string[], freeBudgetMiB = 0) => ({ images: { digests, freeBudgetMiB } });
const cand = (address: string, ad: Partial<Advertisement>, over: Partial<Candidate> = {}): Candidate => ({ address, ad: makeAd(market, ad), connected: true, reservedSlots: 0, reservedGpus: 0, lastOfferedAt: 0, ...over });
const order = (j: ReturnType<typeof job>, cs: Candidate[]) => rankProviders(j, cs, market).map((c) => c.address);

describe('image ranking', () => {
  it("reads the job's digest from a pinned reference and from a local id", () => {
    expect(jobImageDigest(job())).toBe(digest(1));
    expect(jobImageDigest(job({ image: digest(7) }))).toBe(digest(7));
  });

  it('classes: holds the image, has room for it by its stated size, the rest; without a size every cold provider is the rest', () => {
    const sized = job({ imageSizeBytes: 4 * GIB });
    expect(imageClass(sized, makeAd(market, images([digest(1)])))).toBe(0);
    expect(imageClass(sized, makeAd(market, images([digest(2)], 4096)))).toBe(1);
    expect(imageClass(sized, makeAd(market, images([digest(2)], 4095)))).toBe(2);
    // A provider of revision 1 says nothing about images: the rest.
    expect(imageClass(sized, makeAd(market))).toBe(2);
    expect(imageClass(job(), makeAd(market, images([], 1_000_000)))).toBe(2);
    expect(imageClass(job(), makeAd(market, images([digest(1)])))).toBe(0);
  });

  it('the warm provider comes before a cold one of a higher score tier, offered less recently, with a smaller address', () => {
    const warm = cand('0xb', { score: 100, ...images([digest(9), digest(1)]) }, { lastOfferedAt: 50 });
    const cold = cand('0xa', { score: 800, ...images([digest(2)], 100_000) });
    expect(order(job({ imageSizeBytes: GIB }), [cold, warm])).toEqual(['0xb', '0xa']);
  });

  it('a cold provider with room comes before one without, and before one that states no budget; then score tier, then turns', () => {
    const j = job({ imageSizeBytes: 10 * GIB });
    const roomy = cand('0xc', { score: 100, ...images([], 20_000) });
    const tight = cand('0xa', { score: 900, ...images([], 1_000) });
    const silent = cand('0xb', { score: 900 });
    const roomyBetter = cand('0xd', { score: 300, ...images([], 20_000) }, { lastOfferedAt: 10 });
    const roomyLater = cand('0xe', { score: 300, ...images([], 20_000) }, { lastOfferedAt: 20 });
    expect(order(j, [roomy, tight, silent, roomyLater, roomyBetter])).toEqual(['0xd', '0xe', '0xc', '0xa', '0xb']);
  });

  it('the image decides only among providers that fit and whose floor the price covers', () => {
    const warmButDear = cand('0xa', { ...images([digest(1)]), prices: { minPricePerGpuHour: '5000000000000000000', minPricePerJobHour: '0' } });
    const warmButBusy = cand('0xb', images([digest(1)]), { reservedSlots: 4 });
    const cold = cand('0xc', {});
    expect(pickProvider(job(), [warmButDear, warmButBusy, cold], market)?.address).toBe('0xc');
  });

  it('the fast ranking chooses exactly what a full scan chooses, as advertisements change', () => {
    const spec = fc.record({
      score: fc.option(fc.integer({ min: 0, max: 900 })),
      slots: fc.integer({ min: 0, max: 2 }),
      last: fc.integer({ min: 0, max: 3 }),
      held: fc.option(fc.subarray([1, 2, 3, 4]), { nil: undefined }),
      budgetMiB: fc.constantFrom(0, 1024, 8192, 65_536),
      gpuPrice: fc.constantFrom('0', '2000000000000000000'),
      connected: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 25 }),
        fc.array(fc.tuple(fc.nat(24), spec), { maxLength: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.option(fc.constantFrom(GIB, 4 * GIB, 30 * GIB), { nil: undefined }),
        fc.array(fc.nat(24), { maxLength: 4 }),
        (specs, changes, image, imageSizeBytes, excluded) => {
          const adOf = (s: typeof specs[number]): Partial<Advertisement> => ({ score: s.score, slots: s.slots, prices: { minPricePerGpuHour: s.gpuPrice, minPricePerJobHour: '0' }, ...(s.held ? images(s.held.map(digest), s.budgetMiB) : {}) });
          const cands = specs.map((s, i) => cand(`0x${i.toString(16).padStart(40, '0')}`, adOf(s), { lastOfferedAt: s.last, connected: s.connected }));
          const ranking = new ProviderRanking<Candidate>();
          for (const c of cands) ranking.update(c);
          // Some advertise again (or disconnect) after they were ranked.
          for (const [i, s] of changes) {
            const c = cands[i];
            if (!c) continue;
            c.ad = makeAd(market, adOf(s));
            c.connected = s.connected;
            if (c.connected) ranking.update(c);
            else ranking.remove(c);
          }
          const j = job({ image: `registry.example/render@${digest(image)}`, ...(imageSizeBytes ? { imageSizeBytes } : {}) });
          const skip = new Set(excluded.map((i) => cands[i]?.address));
          const exclude = (c: Candidate) => skip.has(c.address);
          expect(ranking.pick(j, market, exclude)?.address ?? null).toBe(pickProvider(j, cands, market, exclude)?.address ?? null);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
