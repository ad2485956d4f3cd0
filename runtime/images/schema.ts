/**
 * The image store's settings (the settings file's `images` section, lockable by the admin policy)
 * and what the Images view, the CLI and the API show. Pure zod: the renderer type-checks against it.
 *
 * Defaults (docs/images.md#defaults):
 * - budgetGiB 64: Offshift's pulled images together stay under it. Real jobs bring CUDA images of
 *   5–20 GB (PyTorch is about 8 GB); 64 GiB holds three to eight of them, enough for a provider
 *   to stay warm for the images its buyers use, while a gaming PC's 1–2 TB disk keeps its room.
 *   Competitors ask 100–128 GB per GPU; a studio raises it (and locks it) by policy.
 * - minFreeGiB 32: Offshift never takes the engine's disk below this, whatever the budget says:
 *   room for a game's update and the system's own, so the owner never meets "disk full".
 * - pullWhileOwnerActive false: when the owner comes back the pull stops with the job (every
 *   finished layer is kept, the next pull fetches only the rest). A pull uses the network and
 *   the disk, not the GPU, but a gamer's connection is what online games need most.
 * - prePull true: images the market says are in demand are pulled while the machine is idle and
 *   available, within the budget, so that the next such job starts warm. The owner can turn it off.
 * - registryMirror null: pull from the registry each job names.
 */
import { z } from 'zod';

// The words for sizes and pulls, pure: handed to the renderer from here, as the contracts are.
export * from './figures.js';

/** A pull-through registry on the LAN: host[:port], optionally with an http:// or https:// scheme (plain HTTP only for loopback and when given). */
export const registryMirrorSchema = z
  .string()
  .max(300)
  .regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/, 'a registry mirror is host[:port], e.g. registry.studio.lan:5000 or http://10.0.0.5:5000');

export const imageSettingsSchema = z
  .object({
    /** Offshift's pulled images together never exceed this (GiB). */
    budgetGiB: z.number().min(0.01).max(64 * 1024),
    /** Offshift never takes the engine's disk below this much free (GiB). */
    minFreeGiB: z.number().min(0).max(64 * 1024),
    /** Whether an image download may go on while the owner uses the computer. */
    pullWhileOwnerActive: z.boolean(),
    /** Whether images the market says are in demand are pulled ahead of any job, within the budget. */
    prePull: z.boolean(),
    /** A pull-through cache to pull through first (null: none). */
    registryMirror: registryMirrorSchema.nullable(),
  })
  .strict();
export type ImageSettings = z.infer<typeof imageSettingsSchema>;

export const imagePatchSchema = imageSettingsSchema.partial().strict();
export type ImagePatch = z.infer<typeof imagePatchSchema>;

export const defaultImageSettings: ImageSettings = { budgetGiB: 64, minFreeGiB: 32, pullWhileOwnerActive: false, prePull: true, registryMirror: null };

/** One image Offshift pulled. */
export const imageRecordSchema = z.object({
  /** The manifest digest the image is pinned by (sha256:…). */
  digest: z.string(),
  /** Where it came from, e.g. registry.example.com/team/render. */
  repository: z.string(),
  /** `repository@digest`. */
  ref: z.string(),
  /** The engine's image id (sha256:…), null while not on the engine (an interrupted pull). */
  imageId: z.string().nullable(),
  /** Size on disk as the engine reports it (0 until pulled). */
  sizeBytes: z.number().int().nonnegative(),
  /** Compressed size from the manifest (null: never read). */
  compressedBytes: z.number().int().nonnegative().nullable(),
  pulledAt: z.number().nullable(),
  lastUsedAt: z.number().nullable(),
  jobsRun: z.number().int().nonnegative(),
  pinned: z.boolean(),
  /** A running or queued job uses it: it cannot be removed now. */
  inUse: z.boolean(),
  /** Advertised to the market as held (pulled and among the most recent 64). */
  warm: z.boolean(),
  /** Pulled ahead of any job because the market said it was in demand. */
  prePulled: z.boolean(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

/** A pull in progress. */
export const imagePullSchema = z.object({
  ref: z.string(),
  /** The job it is for (null: a pre-pull). */
  jobId: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative().nullable(),
  bytesPerSecond: z.number().nonnegative().nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
  startedAt: z.number(),
});
export type ImagePull = z.infer<typeof imagePullSchema>;

/** What a prune removed, and why. */
export const pruneResultSchema = z.object({
  at: z.number(),
  /** 'watermark': the store passed its high mark; 'manual': the owner asked; 'fit': room for a pull. */
  trigger: z.enum(['watermark', 'manual', 'fit', 'budget']),
  removed: z.array(z.object({ ref: z.string(), sizeBytes: z.number().int().nonnegative() })),
  freedBytes: z.number().int().nonnegative(),
});
export type PruneResult = z.infer<typeof pruneResultSchema>;

export const imagesViewSchema = z.object({
  effective: imageSettingsSchema,
  /** Dotted paths the administrator locked (e.g. `images.budgetGiB`). */
  locked: z.array(z.string()),
  user: imagePatchSchema,
  usage: z.object({
    /** Offshift's images on disk, together. */
    usedBytes: z.number().int().nonnegative(),
    budgetBytes: z.number().int().nonnegative(),
    /** Free space on the engine's disk (null: the engine's disk cannot be read from here, e.g. a remote engine). */
    freeDiskBytes: z.number().int().nonnegative().nullable(),
    diskTotalBytes: z.number().int().nonnegative().nullable(),
    minFreeBytes: z.number().int().nonnegative(),
    /** What may still be pulled without removing anything: min(budget left, free disk above the floor). */
    availableBytes: z.number().int().nonnegative(),
  }),
  images: z.array(imageRecordSchema),
  pulls: z.array(imagePullSchema),
  /** Download rate measured over recent pulls (null: no pull measured yet). */
  downloadBytesPerSecond: z.number().nonnegative().nullable(),
  lastPrune: pruneResultSchema.nullable(),
  /** Why the store cannot work now (null: it can), e.g. "Docker is not running". */
  problem: z.string().nullable(),
});
export type ImagesView = z.infer<typeof imagesViewSchema>;

/** `images.settings`: an empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
export const imagesSettingsInputSchema = imagePatchSchema;
export const imageRefInputSchema = z.object({ ref: z.string().min(1).max(600) }).strict();
export const imagesPinInputSchema = z.object({ ref: z.string().min(1).max(600), pinned: z.boolean() }).strict();
