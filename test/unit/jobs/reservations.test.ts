import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capacityOf, freeOf, Reservations, type Capacity, type Need } from '../../../runtime/jobs/reservations.js';
import type { Gpu } from '../../../runtime/gpu/schema.js';

const SEED = Number(process.env.RESERVATIONS_SEED ?? 20261204);

const capacity: Capacity = {
  slots: 2,
  gpus: [
    { key: 'GPU-a', vramMiB: 24_576 },
    { key: 'GPU-b', vramMiB: 8192 },
  ],
  cpus: 2,
  memoryMiB: 4096,
  diskMiB: 1000,
};
const offer = (over: Partial<Need> = {}): Need => ({ kind: 'offer', gpus: 0, cpus: 1, memoryMiB: 512, diskMiB: 100, ...over });

describe('the reservation book', () => {
  it('takes what fits and refuses the first resource short, naming it', () => {
    const book = new Reservations();
    expect(book.take('a', offer({ gpus: 1, minVramMiB: 16_000 }), capacity)).toMatchObject({ ok: true, held: { gpuKeys: ['GPU-a'] } });
    expect(book.take('b', offer({ gpus: 1, minVramMiB: 16_000 }), capacity)).toEqual({ ok: false, shortfall: { resource: 'vram', need: 1, free: 0 } });
    expect(book.take('c', offer({ cpus: 1.5 }), capacity)).toEqual({ ok: false, shortfall: { resource: 'cpus', need: 1.5, free: 1 } });
    expect(book.take('d', offer({ cpus: 1 }), capacity).ok).toBe(true);
    expect(book.take('e', offer({ cpus: 0.1 }), capacity)).toEqual({ ok: false, shortfall: { resource: 'slots', need: 1, free: 0 } });
    // The owner's own jobs are not refused for slots, only for what the machine has.
    expect(book.take('f', { ...offer({ cpus: 0.1, memoryMiB: 6 }), kind: 'local' }, capacity).ok).toBe(false);
    book.release('a');
    expect(book.take('f', { ...offer({ cpus: 0.5, memoryMiB: 6 }), kind: 'local' }, capacity).ok).toBe(true);
  });

  it('sums fractional CPUs exactly: ten jobs of 0.2 fill two CPUs, no eleventh', () => {
    const book = new Reservations();
    const wide = { ...capacity, slots: 64 };
    for (let i = 0; i < 10; i++) expect(book.take(`j${i}`, offer({ cpus: 0.2, memoryMiB: 6, diskMiB: 1 }), wide).ok).toBe(true);
    expect(book.take('j10', offer({ cpus: 0.2, memoryMiB: 6, diskMiB: 1 }), wide)).toMatchObject({ ok: false, shortfall: { resource: 'cpus' } });
  });

  it('turns an offer into its job atomically, checked again: when the capacity shrank, the offer keeps its hold', () => {
    const book = new Reservations();
    expect(book.take('offer:1', offer({ gpus: 1 }), capacity).ok).toBe(true);
    const shrunk = { ...capacity, gpus: [capacity.gpus[1]!] };
    const refused = book.replace('offer:1', 'job-1', { ...offer(), gpus: ['GPU-a'] }, shrunk);
    expect(refused.ok).toBe(false);
    expect(book.has('offer:1')).toBe(true);
    expect(book.replace('offer:1', 'job-1', { ...offer(), gpus: ['GPU-b'] }, shrunk)).toMatchObject({ ok: true, held: { id: 'job-1', gpuKeys: ['GPU-b'] } });
    expect(book.list().map((h) => h.id)).toEqual(['job-1']);
  });

  it('counts only leasable GPUs in service, one slot each, and keeps the owner\'s memory', () => {
    const gpu = (uuid: string, vendor: Gpu['vendor']) => ({ uuid, vendor, pciBusId: null, index: 0, memoryTotalMiB: 8192 }) as unknown as Gpu;
    const c = capacityOf({ gpus: [gpu('GPU-1', 'nvidia'), gpu('GPU-2', 'nvidia'), gpu('GPU-3', 'intel')], outOfService: new Set(['GPU-2']), cpus: 8, totalMemoryMiB: 16_384, freeDiskMiB: 500 });
    expect(c.slots).toBe(2);
    expect(c.gpus.length).toBe(1);
    expect(c.memoryMiB).toBe(16_384 - 1024);
  });

  it(`never holds more than the capacity, whatever the order of takes, replaces and releases (seed ${SEED})`, () => {
    const needArb = fc.record({
      kind: fc.constantFrom('offer' as const, 'offer' as const, 'local' as const),
      gpus: fc.integer({ min: 0, max: 3 }),
      minVramMiB: fc.constantFrom(0, 10_000),
      cpus: fc.constantFrom(0.1, 0.25, 0.5, 1, 1.5, 2, 3),
      memoryMiB: fc.integer({ min: 6, max: 5000 }),
      diskMiB: fc.integer({ min: 1, max: 1200 }),
    });
    const op = fc.oneof(
      fc.record({ op: fc.constant('take' as const), id: fc.integer({ min: 0, max: 20 }), need: needArb }),
      fc.record({ op: fc.constant('replace' as const), id: fc.integer({ min: 0, max: 20 }), to: fc.integer({ min: 21, max: 40 }), cpus: fc.constantFrom(0.5, 1, 2) }),
      fc.record({ op: fc.constant('release' as const), id: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const book = new Reservations();
        for (const o of ops) {
          if (o.op === 'take') {
            if (!book.has(`r${o.id}`)) book.take(`r${o.id}`, o.need, capacity);
          } else if (o.op === 'replace') {
            const h = book.get(`r${o.id}`);
            if (h && !book.has(`r${o.to}`)) book.replace(h.id, `r${o.to}`, { kind: h.kind, gpus: h.gpuKeys, cpus: o.cpus, memoryMiB: h.memoryMiB, diskMiB: h.diskMiB }, capacity);
          } else book.release(`r${o.id}`);
          const held = book.list();
          const offers = held.filter((h) => h.kind === 'offer');
          const keys = held.flatMap((h) => h.gpuKeys);
          expect(new Set(keys).size).toBe(keys.length);
          expect(keys.every((k) => capacity.gpus.some((g) => g.key === k))).toBe(true);
          expect(held.reduce((n, h) => n + Math.round(h.cpus * 1000), 0)).toBeLessThanOrEqual(capacity.cpus * 1000);
          expect(held.reduce((n, h) => n + h.memoryMiB, 0)).toBeLessThanOrEqual(capacity.memoryMiB);
          // Offers fit in the slots and the disk whatever the owner's own jobs hold besides.
          expect(offers.length).toBeLessThanOrEqual(capacity.slots);
          expect(freeOf(capacity, held).cpus).toBeGreaterThanOrEqual(0);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
