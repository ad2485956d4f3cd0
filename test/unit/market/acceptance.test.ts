import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { declineForShortfall, decideOffer, priceFloor, type AcceptanceContext } from '../../../runtime/market/acceptance.js';
import { jobRequestSchema, type Offer } from '../../../protocol/index.js';
import { defaultMarketSettings } from '../../../runtime/market/settings.js';

const ESCROW = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const BUYER = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d').address;
const NOW = 1_800_000_000_000;
const IMAGE = `sha256:${'a'.repeat(64)}`;
const TOKEN = 10n ** 18n;

function offer(job: Record<string, unknown> = {}, extra: Partial<Offer> = {}): Offer {
  return {
    offerId: 'offer-0001',
    jobId: 'job-1',
    job: jobRequestSchema.parse({ image: IMAGE, command: ['render'], gpus: 1, pricePerHour: (2n * TOKEN).toString(), maxDurationSeconds: 600, ...job }),
    buyer: BUYER,
    chainId: 31337,
    escrow: ESCROW,
    expiresAt: NOW + 10_000,
    ...extra,
  };
}

function ctx(over: Partial<AcceptanceContext> = {}): AcceptanceContext {
  return {
    now: NOW,
    settings: { ...defaultMarketSettings, minPricePerGpuHour: TOKEN.toString(), minPricePerJobHour: (TOKEN / 2n).toString() },
    availability: { run: true, detail: 'Available.' },
    windowSecondsLeft: null,
    free: { gpus: [{ key: 'GPU-a', vramMiB: 24_576 }, { key: 'GPU-b', vramMiB: 8192 }], cpus: 8, memoryMiB: 16_000, diskMiB: 50_000, slots: 2 },
    wallet: { chainId: 31337, escrow: ESCROW.toLowerCase() },
    jobIdSeen: null,
    formatTokens: (u) => `${Number(u) / 1e18} OFT`,
    ...over,
  };
}

describe('the provider acceptance policy', () => {
  it('accepts an offer that meets every rule, saying what it pays', () => {
    expect(decideOffer(offer(), ctx())).toEqual({ accept: true, reason: null, detail: 'Accepted: 2 OFT an hour, up to 10 min.' });
  });

  it('takes the floor as the larger of the per-job price and GPUs × the per-GPU price', () => {
    expect(priceFloor({ minPricePerGpuHour: '3', minPricePerJobHour: '5' }, 1)).toBe(5n);
    expect(priceFloor({ minPricePerGpuHour: '3', minPricePerJobHour: '5' }, 2)).toBe(6n);
    expect(priceFloor({ minPricePerGpuHour: '3', minPricePerJobHour: '5' }, 0)).toBe(5n);
  });

  const declines: Array<[string, Offer, Partial<AcceptanceContext>, RegExp]> = [
    ['wallet-locked', offer(), { wallet: null }, /wallet is locked/],
    ['wrong-chain', offer({}, { chainId: 1 }), {}, /chain 1.*chain 31337/],
    ['wrong-escrow', offer({}, { escrow: '0x0000000000000000000000000000000000000001' }), {}, /escrow 0x0{39}1/],
    ['job-id-used', offer(), { jobIdSeen: 'this agent took it on 2027-01-01' }, /job id job-1 is not new: this agent took it on 2027-01-01/],
    ['buyer-denied', offer(), { settings: { ...defaultMarketSettings, denyBuyers: [BUYER.toLowerCase()] } }, /deny list/],
    ['image-denied', offer(), { settings: { ...defaultMarketSettings, denyImages: [IMAGE] } }, /image .* deny list/],
    ['expired', offer({}, { expiresAt: NOW - 1 }), {}, /expired/],
    ['not-available', offer(), { availability: { run: false, detail: 'Paused: cs2.exe is running.' } }, /not available now: Paused: cs2.exe is running/],
    ['not-enough-gpus', offer({ gpus: 3 }), {}, /needs 3 GPUs, and 2 are free/],
    ['not-enough-vram', offer({ gpus: 2, minVramMiB: 16_384 }), {}, /16384 MiB .* 1 free has/],
    ['not-enough-cpus', offer({ cpus: 16 }), {}, /16 CPUs, and 8 are free/],
    ['not-enough-memory', offer({ memoryMiB: 32_000 }), {}, /32000 MiB of memory/],
    ['not-enough-disk', offer({ diskMiB: 60_000 }), {}, /60000 MiB of disk/],
    ['report-interval-too-long', offer({ reportIntervalSeconds: 120 }), {}, /every 120 s, more than your maximum of 60 s/],
    ['duration-beyond-window', offer({ maxDurationSeconds: 90_000 }), {}, /longer than your maximum/],
    ['duration-beyond-window', offer({ maxDurationSeconds: 7200 }), { windowSecondsLeft: 1800 }, /schedule window closes in 30 min/],
    ['price-below-floor', offer({ gpus: 2, pricePerHour: (15n * TOKEN / 10n).toString() }), {}, /1.5 OFT an hour is below your floor of 2 OFT an hour for 2 GPUs/],
    ['busy', offer(), { free: { ...ctx().free, slots: 0 } }, /as many jobs as it takes/],
  ];
  for (const [reason, o, over, detail] of declines) {
    it(`declines with ${reason}`, () => {
      const d = decideOffer(o, ctx(over));
      expect(d.accept).toBe(false);
      expect(d.reason).toBe(reason);
      expect(d.detail).toMatch(/^Declined: /);
      expect(d.detail).toMatch(detail);
    });
  }

  it('checks the rules in order: a locked wallet is named before a low price', () => {
    expect(decideOffer(offer({ pricePerHour: '1' }), ctx({ wallet: null })).reason).toBe('wallet-locked');
  });

  it('takes CPU-only jobs on a machine without a GPU, at the per-job floor', () => {
    const d = decideOffer(offer({ gpus: 0, pricePerHour: TOKEN.toString() }), ctx({ free: { gpus: [], cpus: 2, memoryMiB: 4000, diskMiB: 4000, slots: 1 } }));
    expect(d).toMatchObject({ accept: true });
  });

  it('names the resource a reservation fell short of, with the decline reason buyers know', () => {
    const capacity = { slots: 1, gpus: [], cpus: 2, memoryMiB: 4000, diskMiB: 9000 };
    expect(declineForShortfall({ resource: 'slots', need: 1, free: 0 }, capacity)).toMatchObject({ accept: false, reason: 'busy', detail: expect.stringMatching(/no job slot is free \(this machine takes 1 job at once\)/) });
    expect(declineForShortfall({ resource: 'cpus', need: 2, free: 0.5 }, capacity)).toMatchObject({ reason: 'not-enough-cpus', detail: expect.stringMatching(/2 CPUs asked, 0.5 of 2 free/) });
    expect(declineForShortfall({ resource: 'memory', need: 512, free: 100 }, capacity).reason).toBe('not-enough-memory');
  });
});
