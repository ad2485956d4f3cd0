/** What a provider tells the market about itself, within bounds no real machine exceeds. */
import { z } from 'zod';
import { shortText } from './common.js';
import { advertisedImagesSchema } from './images.js';
import { addressSchema, baseUnitsSchema } from './values.js';

/** The availability the provider advertises (from the agent's state): paused providers get no offers. */
export const availabilitySchema = z.object({
  state: z.enum(['available', 'working', 'paused', 'error', 'starting']),
  reason: shortText,
});

/**
 * Bounds of what an advertisement may claim: no machine has more, so a figure past them is a lie
 * (or a bug), refused rather than ranked. The score scale: the reference card scores 100.
 */
export const MAX_ADVERTISED_SCORE = 10_000;
export const MAX_ADVERTISED_VRAM_MIB = 1024 * 1024;
export const MAX_ADVERTISED_MEMORY_MIB = 64 * 1024 * 1024;
export const MAX_ADVERTISED_DISK_MIB = 1024 * 1024 * 1024;
export const MAX_ADVERTISED_JOB_SECONDS = 30 * 86_400;

export const advertisedGpuSchema = z
  .object({
    model: z.string().max(200),
    vendor: z.enum(['nvidia', 'amd', 'intel', 'apple', 'other']),
    vramMiB: z.number().int().nonnegative().max(MAX_ADVERTISED_VRAM_MIB).nullable(),
    driver: z.string().max(64).nullable(),
    cudaVersion: z.string().max(32).nullable(),
    /** Null until a benchmark has run on this card. */
    score: z.number().nonnegative().max(MAX_ADVERTISED_SCORE).nullable(),
  })
  .strict();
export type AdvertisedGpu = z.infer<typeof advertisedGpuSchema>;

/** What a provider tells the market about itself (no serial numbers, no UUIDs). Sent again on every change. */
export const advertisementSchema = z
  .object({
    gpus: z.array(advertisedGpuSchema).max(64),
    cpus: z.number().int().nonnegative().max(4096),
    memoryMiB: z.number().int().nonnegative().max(MAX_ADVERTISED_MEMORY_MIB),
    freeDiskMiB: z.number().int().nonnegative().max(MAX_ADVERTISED_DISK_MIB),
    /** Per-GPU score summary: the best card's, null until a benchmark exists. */
    score: z.number().nonnegative().max(MAX_ADVERTISED_SCORE).nullable(),
    prices: z.object({ minPricePerGpuHour: baseUnitsSchema, minPricePerJobHour: baseUnitsSchema }).strict(),
    availability: availabilitySchema,
    /** The longest job accepted now (what is left of the schedule window, capped by the owner's maximum). */
    maxJobSeconds: z.number().int().nonnegative().max(MAX_ADVERTISED_JOB_SECONDS),
    /** How many more jobs can start now, and how many GPUs are free for them. */
    slots: z.number().int().nonnegative().max(64),
    freeGpus: z.number().int().nonnegative().max(64),
    chainId: z.number().int().positive(),
    escrow: addressSchema,
    agent: z.string().max(64),
    /** Revision 2: the images this provider holds warm, and what it may still pull. */
    images: advertisedImagesSchema.optional(),
    /** Revision 3: the payout address its vouchers must pay (protocol/payout.ts); absent: its own address. */
    payee: addressSchema.optional(),
  })
  .strict()
  // Figures that must agree with each other.
  .refine((ad) => ad.freeGpus <= ad.gpus.length, { message: 'freeGpus is more than the GPUs advertised', path: ['freeGpus'] })
  .refine((ad) => ad.score === null || ad.gpus.every((g) => g.score === null) || ad.gpus.some((g) => g.score === ad.score), {
    message: "the score is not one of the scored cards' scores (it is the best card's)",
    path: ['score'],
  });
export type Advertisement = z.infer<typeof advertisementSchema>;
