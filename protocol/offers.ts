/** The job a buyer asks for, the offer the market makes of it to a provider, and why a provider declines one. */
import { z } from 'zod';
import { marketJobIdSchema } from './common.js';
import { DEFAULT_REPORT_INTERVAL_S, MAX_JOB_SECONDS, MAX_OUTPUT_BYTES, MAX_PRICE_PER_HOUR, MAX_REPORT_INTERVAL_S, MIN_REPORT_INTERVAL_S } from './limits.js';
import { MAX_IMAGE_BYTES, MAX_PULL_SECONDS } from './images.js';
import { addressSchema, baseUnitsSchema, DIGEST_REF, LOCAL_ID, networkSchema as jobNetworkSchema } from './values.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const offerInputSchema = z
  .object({
    url: z.string().max(2048).regex(/^https?:\/\//, 'an input is fetched over http(s)'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits'),
    /** Where it lands under /input (relative, no ..). */
    path: z.string().regex(/^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/, 'a relative path of letters, digits, _ . - /'),
    sizeBytes: z.number().int().nonnegative().max(1024 ** 3),
  })
  .strict();

const priceSchema = baseUnitsSchema.refine((v) => v.length <= 25 && /^[0-9]+$/.test(v) && BigInt(v) <= MAX_PRICE_PER_HOUR, `at most ${MAX_PRICE_PER_HOUR} base units an hour (what the ledger and the escrow can record)`);

/** The job a buyer asks for: what the market then offers to providers. */
export const jobRequestSchema = z
  .object({
    image: z.string().refine((v) => DIGEST_REF.test(v) || LOCAL_ID.test(v), 'the image must be pinned: repo@sha256:<64 hex> or a local id sha256:<64 hex>'),
    /** Registry to pull from (null: the image ref names it, or it is already on the provider, as for the demo). */
    pullFrom: z.string().max(500).nullable().default(null),
    command: z.array(z.string().max(4096)).min(1).max(256),
    env: z.record(z.string().regex(ENV_NAME), z.string().max(4096)).default({}),
    gpus: z.number().int().min(0).max(16).default(1),
    /** Minimum VRAM per GPU, MiB (0: any). */
    minVramMiB: z.number().int().nonnegative().default(0),
    cpus: z.number().positive().max(256).default(1),
    memoryMiB: z.number().int().min(6).max(1024 * 1024).default(512),
    diskMiB: z.number().int().positive().max(1024 * 1024).default(256),
    maxDurationSeconds: z.number().int().positive().max(MAX_JOB_SECONDS).default(3600),
    network: jobNetworkSchema.default('none'),
    inputs: z.array(offerInputSchema).max(32).default([]),
    /** Size cap of /output, relayed back to the buyer when the job ends (0: no output). */
    outputMiB: z.number().int().nonnegative().max(MAX_OUTPUT_BYTES / 1024 / 1024).default(16),
    /** For the whole job, per hour, token base units (at most MAX_PRICE_PER_HOUR). */
    pricePerHour: priceSchema,
    reportIntervalSeconds: z.number().int().min(MIN_REPORT_INTERVAL_S).max(MAX_REPORT_INTERVAL_S).default(DEFAULT_REPORT_INTERVAL_S),
    /** Revision 2: the image's compressed size (all its layers and its config), as the buyer states it; a provider whose manifest read contradicts it declines. */
    imageSizeBytes: z.number().int().nonnegative().max(MAX_IMAGE_BYTES).optional(),
    /** Revision 2: the longest the buyer lets the image's pull take; a provider whose measured rate says longer declines. */
    maxPullSeconds: z.number().int().positive().max(MAX_PULL_SECONDS).optional(),
  })
  .strict()
  .refine((j) => JSON.stringify(j.command).length + JSON.stringify(j.env).length <= 64 * 1024, 'the command and env together are at most 64 KiB');
export type JobRequest = z.output<typeof jobRequestSchema>;
export type JobRequestInput = z.input<typeof jobRequestSchema>;

/** An offer: the job, who pays and where, and until when it stands. */
export const offerSchema = z
  .object({
    offerId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    jobId: marketJobIdSchema,
    job: jobRequestSchema,
    buyer: addressSchema,
    chainId: z.number().int().positive(),
    escrow: addressSchema,
    /** Unix ms. */
    expiresAt: z.number().int().nonnegative(),
  })
  .strict();
export type Offer = z.infer<typeof offerSchema>;

/** The offerId of a message that failed its schema, when it can be read (the provider declines it by that id). */
export function readableOfferId(json: unknown): string | null {
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'offer') return null;
  const offer = (json as { offer?: unknown }).offer;
  const id = typeof offer === 'object' && offer !== null ? (offer as { offerId?: unknown }).offerId : undefined;
  return offerSchema.shape.offerId.safeParse(id).success ? (id as string) : null;
}

/** Every reason a provider declines an offer (docs/protocol.md explains each). */
export const declineReasonSchema = z.enum([
  'price-below-floor',
  'not-enough-gpus',
  'not-enough-vram',
  'not-enough-cpus',
  'not-enough-memory',
  'not-enough-disk',
  'not-available',
  'duration-beyond-window',
  'report-interval-too-long',
  'image-denied',
  'buyer-denied',
  'wrong-chain',
  'wrong-escrow',
  'sandbox-refused',
  'wallet-locked',
  'expired',
  'busy',
  /** The offer failed its schema (the detail names the field); an `error` goes with it. */
  'invalid-offer',
  /** This provider has already seen the job id on its channel (buyer, provider, job id): locally, or paid on chain. */
  'job-id-used',
  /** The escrow could not be read on chain to check that the job's channel is new. */
  'chain-unreadable',
  /** Revision 2: the offer's `imageSizeBytes` is not what the image's manifest says. */
  'image-size-mismatch',
  /** Revision 2: at this provider's measured download rate the pull would take longer than `maxPullSeconds`. */
  'pull-too-slow',
  /** The image's manifest could not be read from its registry (nor its mirror). */
  'image-unreadable',
]);
export type DeclineReason = z.infer<typeof declineReasonSchema>;
