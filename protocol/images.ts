/**
 * The image additions to protocol v1 (revision 2): what a provider holds warm, how large a job's
 * image is and how long its pull may take, pull progress, and the market's demand list. Every
 * v1 message is unchanged; these fields and messages are sent only to a peer that said it speaks
 * revision 2 (docs/protocol.md, "Revisions").
 */
import { z } from 'zod';
import { marketJobIdSchema } from './common.js';
import { DIGEST_REF } from './values.js';

/** The revision that carries the image additions (a peer listing only 1 never sees them). */
export const IMAGES_REVISION = 2;
/** A provider advertises at most this many cached image digests (its most recently used). */
export const MAX_ADVERTISED_IMAGES = 64;
/** The largest image a job may name: no real image comes near it, so a bigger claim is a lie. */
export const MAX_IMAGE_BYTES = 512 * 1024 ** 3;
/** The longest pull an offer may allow (a day). */
export const MAX_PULL_SECONDS = 86_400;
/** The market's demand list holds at most this many images. */
export const MAX_DEMAND_IMAGES = 32;

export const imageDigestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'an image digest is sha256:<64 hex>');

/** The provider's image cache, in its advertisement: the digests it holds (most recent first) and its free image budget. */
export const advertisedImagesSchema = z
  .object({
    digests: z.array(imageDigestSchema).max(MAX_ADVERTISED_IMAGES),
    /** What the provider may still pull without removing anything: min(budget left, free disk above its floor). */
    freeBudgetMiB: z.number().int().nonnegative().max(1024 * 1024 * 1024),
  })
  .strict();
export type AdvertisedImages = z.infer<typeof advertisedImagesSchema>;

/** Provider → market → buyer, while the job's image is pulled: bytes fetched of the bytes missing. Pull time is not billed. */
export const pullProgressSchema = z
  .object({
    jobId: marketJobIdSchema,
    /** Compressed bytes fetched so far by this pull. */
    bytes: z.number().int().nonnegative().max(MAX_IMAGE_BYTES),
    /** Compressed bytes this pull had to fetch (null: not known yet). */
    totalBytes: z.number().int().nonnegative().max(MAX_IMAGE_BYTES).nullable(),
    /** Measured over the last seconds (null: too early to say). */
    bytesPerSecond: z.number().nonnegative().max(1e12).nullable(),
  })
  .strict();
export type PullProgressReport = z.infer<typeof pullProgressSchema>;

/** One entry of the market's demand list: an image buyers asked for recently. */
export const demandedImageSchema = z
  .object({
    image: z.string().regex(DIGEST_REF, 'a demanded image is pinned: repo@sha256:<64 hex>'),
    /** Compressed size, as the buyers stated it (the provider reads the manifest before it pulls). */
    sizeBytes: z.number().int().nonnegative().max(MAX_IMAGE_BYTES),
    /** Jobs that asked for it within the market's window. */
    requests: z.number().int().positive(),
  })
  .strict();
export type DemandedImage = z.infer<typeof demandedImageSchema>;
