/**
 * The marketplace protocol, version 1: every message between a provider (the agent), the market
 * and a buyer, as zod schemas. Both ends import this one module (runtime/market/ on the
 * provider's side, market/ for the reference market, the buyer CLI), and each validates every
 * message it receives with it. docs/protocol.md is its human form.
 *
 * Pure zod (frames.ts parses raw frames on the node side).
 */
import { z } from 'zod';
import { addressSchema, baseUnitsSchema, DIGEST_REF, LOCAL_ID, networkSchema as jobNetworkSchema, signedVoucherSchema } from './values.js';

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS = [1] as const;

/** The largest text frame either side accepts; an output chunk fits in it with room to spare. */
export const MAX_MESSAGE_BYTES = 512 * 1024;
/** Output files relayed from provider to buyer are cut into chunks of this many bytes (before base64). */
export const OUTPUT_CHUNK_BYTES = 192 * 1024;
/** What one job may relay as output, all files together. */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** What one job may relay as output, in files (empty files cost no bytes, so bytes alone do not bound them). */
export const MAX_OUTPUT_FILES = 1000;
/** Malformed messages are counted against valid ones, not in a row: MalformedCounter in frames.ts. */
/** A sign-in nonce is good for this long, once. */
export const NONCE_TTL_MS = 60_000;
export const DEFAULT_OFFER_TTL_MS = 10_000;
export const DEFAULT_REPORT_INTERVAL_S = 30;
export const MIN_REPORT_INTERVAL_S = 5;
export const MAX_REPORT_INTERVAL_S = 300;
/** How many providers may run a job in turn when the ones before were preempted (the buyer's `maxAttempts`, 1–10). */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS = 10;

/** WebSocket paths on the market: providers dial /v1/provider, buyers /v1/buyer; GET /v1/jobs and /v1/providers read. */
export const PATHS = { provider: '/v1/provider', buyer: '/v1/buyer', jobs: '/v1/jobs', providers: '/v1/providers' } as const;

// ── shared pieces ──────────────────────────────────────────────────────────

/** The market's id of a job: short, printable, safe in a file name. */
export const marketJobIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a market job id is 1–64 letters, digits, _ . -');
const nonceSchema = z.string().regex(/^[A-Za-z0-9]{16,64}$/, 'a nonce is 16–64 letters and digits');
const shortText = z.string().max(2000);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const roleSchema = z.enum(['provider', 'buyer']);
export type Role = z.infer<typeof roleSchema>;

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
  })
  .strict()
  // Figures that must agree with each other.
  .refine((ad) => ad.freeGpus <= ad.gpus.length, { message: 'freeGpus is more than the GPUs advertised', path: ['freeGpus'] })
  .refine((ad) => ad.score === null || ad.gpus.every((g) => g.score === null) || ad.gpus.some((g) => g.score === ad.score), {
    message: "the score is not one of the scored cards' scores (it is the best card's)",
    path: ['score'],
  });
export type Advertisement = z.infer<typeof advertisementSchema>;

export const offerInputSchema = z
  .object({
    url: z.string().max(2048).regex(/^https?:\/\//, 'an input is fetched over http(s)'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits'),
    /** Where it lands under /input (relative, no ..). */
    path: z.string().regex(/^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/, 'a relative path of letters, digits, _ . - /'),
    sizeBytes: z.number().int().nonnegative().max(1024 ** 3),
  })
  .strict();

/**
 * The highest price per hour a job may offer, in base units (10^24: a million tokens at 18
 * decimals). A job at this price for the longest duration (30 days) comes to 7.2·10^26, which
 * the provider's ledger records exactly (one amount: below 9.2·10^30, runtime/ledger/amount.ts)
 * and the escrow (uint256) holds; a price past it could be accepted and never reported.
 */
export const MAX_PRICE_PER_HOUR = 10n ** 24n;
export const MAX_JOB_SECONDS = 30 * 86_400;
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
]);
export type DeclineReason = z.infer<typeof declineReasonSchema>;

/** Final states of a market job, as both ends report them. */
export const marketJobStateSchema = z.enum(['queued', 'offered', 'assigned', 'running', 'paused', 'succeeded', 'failed', 'cancelled', 'timed-out', 'preempted', 'unpaid', 'market-unreachable', 'expired']);
export type MarketJobState = z.infer<typeof marketJobStateSchema>;

/**
 * A usage report: cumulative run seconds of one job and what they cost, signed by the provider
 * (EIP-191 over `usageReportText`), so the buyer holds proof of what was claimed.
 */
export const usageReportSchema = z
  .object({
    jobId: marketJobIdSchema,
    seq: z.number().int().nonnegative(),
    usageSeconds: z.number().int().nonnegative(),
    /** usageSeconds × pricePerHour / 3600, rounded down: what is owed so far. */
    amountDue: baseUnitsSchema,
    at: z.number().int().nonnegative(),
    final: z.boolean(),
    provider: addressSchema,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  })
  .strict();
export type UsageReport = z.infer<typeof usageReportSchema>;

export function usageReportText(r: Omit<UsageReport, 'signature'>): string {
  return `Offshift usage report v1\njob: ${r.jobId}\nseq: ${r.seq}\nseconds: ${r.usageSeconds}\ndue: ${r.amountDue}\nat: ${r.at}\nfinal: ${r.final}\nprovider: ${r.provider}`;
}

export const outputChunkSchema = z
  .object({
    jobId: marketJobIdSchema,
    path: z.string().regex(/^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/),
    index: z.number().int().nonnegative(),
    last: z.boolean(),
    /** The whole file's, on the last chunk. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    data: z.string().max(Math.ceil(OUTPUT_CHUNK_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/),
  })
  .strict();

export const jobEndSchema = z
  .object({
    jobId: marketJobIdSchema,
    state: marketJobStateSchema,
    reason: z.string().max(64),
    detail: shortText,
    usageSeconds: z.number().int().nonnegative(),
    exitCode: z.number().int().nullable(),
  })
  .strict();

// ── the first exchange (both roles) ────────────────────────────────────────

const helloSchema = z.object({ type: z.literal('hello'), versions: z.array(z.number().int().positive()).min(1).max(16), role: roleSchema, agent: z.string().max(64) }).strict();
const challengeSchema = z
  .object({
    type: z.literal('challenge'),
    version: z.number().int().positive(),
    nonce: nonceSchema,
    /** What the sign-in message must name (EIP-4361 domain and URI), and until when the nonce stands. */
    domain: z.string().max(255),
    uri: z.string().max(2048),
    chainId: z.number().int().positive(),
    issuedAt: z.string().max(40),
    expiresAt: z.string().max(40),
  })
  .strict();
const signInSchema = z.object({ type: z.literal('sign-in'), message: z.string().max(4096), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/) }).strict();
const welcomeSchema = z.object({ type: z.literal('welcome'), address: addressSchema, session: z.string().max(64), chainId: z.number().int().positive(), escrow: addressSchema }).strict();
const errorSchema = z.object({ type: z.literal('error'), code: z.string().max(64), message: shortText, ref: z.string().max(64).optional() }).strict();

// ── provider → market ──────────────────────────────────────────────────────

export const providerMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  signInSchema,
  /** A message from the market it could not take (malformed, a duplicate offerId, an unknown offer). */
  errorSchema,
  z.object({ type: z.literal('advertise'), ad: advertisementSchema }).strict(),
  z.object({ type: z.literal('offer-reply'), offerId: z.string().max(64), accept: z.boolean(), reason: declineReasonSchema.nullable(), detail: shortText }).strict(),
  z.object({ type: z.literal('job-started'), jobId: marketJobIdSchema }).strict(),
  z.object({ type: z.literal('job-paused'), jobId: marketJobIdSchema, paused: z.boolean(), detail: shortText }).strict(),
  z.object({ type: z.literal('usage'), report: usageReportSchema }).strict(),
  z.object({ type: z.literal('output'), chunk: outputChunkSchema }).strict(),
  z.object({ type: z.literal('job-ended'), end: jobEndSchema }).strict(),
  /** After a reconnect: the jobs this provider still runs, so the market re-links them to their buyers. */
  z.object({ type: z.literal('resume'), jobs: z.array(z.object({ jobId: marketJobIdSchema, usageSeconds: z.number().int().nonnegative() }).strict()).max(64) }).strict(),
]);
export type ProviderMessage = z.infer<typeof providerMessageSchema>;

// ── market → provider ──────────────────────────────────────────────────────

export const toProviderMessageSchema = z.discriminatedUnion('type', [
  challengeSchema,
  welcomeSchema,
  errorSchema,
  z.object({ type: z.literal('offer'), offer: offerSchema }).strict(),
  /** The accepted offer is the provider's: run it. */
  z.object({ type: z.literal('job-confirmed'), jobId: marketJobIdSchema, offerId: z.string().max(64) }).strict(),
  /** The offer is no longer the provider's (expired, taken back): do not run it. */
  z.object({ type: z.literal('offer-withdrawn'), offerId: z.string().max(64), reason: z.string().max(64) }).strict(),
  z.object({ type: z.literal('voucher'), jobId: marketJobIdSchema, signed: signedVoucherSchema }).strict(),
  z.object({ type: z.literal('cancel'), jobId: marketJobIdSchema, reason: z.string().max(64), detail: shortText }).strict(),
  z.object({ type: z.literal('resumed'), jobs: z.array(z.object({ jobId: marketJobIdSchema, known: z.boolean() }).strict()).max(64) }).strict(),
]);
export type ToProviderMessage = z.infer<typeof toProviderMessageSchema>;

// ── buyer → market ─────────────────────────────────────────────────────────

export const buyerMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  signInSchema,
  /** `maxAttempts`: how many providers may run the job in turn when one is preempted (the buyer client sends DEFAULT_MAX_ATTEMPTS unless told otherwise; absent, from a client that predates re-placement, it is 1). Not part of `job`, so offers stay what v1 providers parse. */
  z.object({ type: z.literal('submit'), ref: z.string().max(64), job: jobRequestSchema, maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS).optional() }).strict(),
  z.object({ type: z.literal('voucher'), jobId: marketJobIdSchema, signed: signedVoucherSchema }).strict(),
  z.object({ type: z.literal('cancel'), jobId: marketJobIdSchema }).strict(),
  /** After a reconnect: follow these jobs again. */
  z.object({ type: z.literal('attach'), jobIds: z.array(marketJobIdSchema).max(64) }).strict(),
]);
export type BuyerMessage = z.infer<typeof buyerMessageSchema>;

// ── market → buyer ─────────────────────────────────────────────────────────

const attemptEndedSchema = z
  .object({
    type: z.literal('attempt-ended'),
    jobId: marketJobIdSchema,
    attempt: z.number().int().min(1).max(MAX_ATTEMPTS),
    provider: addressSchema,
    end: jobEndSchema,
    next: z.number().int().min(2).max(MAX_ATTEMPTS),
    maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS),
  })
  .strict();

export const toBuyerMessageSchema = z.discriminatedUnion('type', [
  challengeSchema,
  welcomeSchema,
  errorSchema,
  z.object({ type: z.literal('submitted'), ref: z.string().max(64), jobId: marketJobIdSchema, chainId: z.number().int().positive(), escrow: addressSchema }).strict(),
  z.object({ type: z.literal('job-update'), jobId: marketJobIdSchema, state: marketJobStateSchema, provider: addressSchema.nullable(), reason: z.string().max(64), detail: shortText }).strict(),
  z.object({ type: z.literal('usage'), report: usageReportSchema, pricePerHour: baseUnitsSchema }).strict(),
  z.object({ type: z.literal('output'), chunk: outputChunkSchema }).strict(),
  z.object({ type: z.literal('job-ended'), end: jobEndSchema, provider: addressSchema.nullable() }).strict(),
  /**
   * One attempt of the job is over but the job is not: its provider was preempted and the market
   * places the job again (`next` is the attempt that follows, of `maxAttempts`). `end` is that
   * provider's ending; its vouchers go on its own channel (buyer, provider, jobId).
   */
  attemptEndedSchema,
]);
export type ToBuyerMessage = z.infer<typeof toBuyerMessageSchema>;

// ── what the market shows (GET /v1/jobs, /v1/providers) ────────────────────

export const marketJobViewSchema = z.object({
  jobId: marketJobIdSchema,
  state: marketJobStateSchema,
  reason: z.string(),
  buyer: addressSchema,
  provider: addressSchema.nullable(),
  image: z.string(),
  gpus: z.number().int(),
  pricePerHour: baseUnitsSchema,
  usageSeconds: z.number().int(),
  paid: baseUnitsSchema,
  submittedAt: z.number(),
  endedAt: z.number().nullable(),
  offers: z.number().int(),
  /** Providers that have run the job so far (more than one when it was preempted and placed again), and how many it may have. Absent from older markets. */
  attempts: z.number().int().optional(),
  maxAttempts: z.number().int().optional(),
});
export type MarketJobView = z.infer<typeof marketJobViewSchema>;

export const marketProviderViewSchema = z.object({
  address: addressSchema,
  connected: z.boolean(),
  connectedAt: z.number().nullable(),
  ad: advertisementSchema.nullable(),
  runningJobs: z.array(marketJobIdSchema),
});
export type MarketProviderView = z.infer<typeof marketProviderViewSchema>;

// ── the sign-in message (EIP-4361) ─────────────────────────────────────────

export interface SignInFields {
  domain: string;
  address: string;
  uri: string;
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime: string;
  role: Role;
}

const STATEMENT: Record<Role, string> = {
  provider: 'Sign in to the Offshift market as a provider.',
  buyer: 'Sign in to the Offshift market as a buyer.',
};

/** The EIP-4361 ("Sign-In with Ethereum") text, field for field. */
export function signInMessage(f: SignInFields): string {
  return [
    `${f.domain} wants you to sign in with your Ethereum account:`,
    f.address,
    '',
    STATEMENT[f.role],
    '',
    `URI: ${f.uri}`,
    'Version: 1',
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
    `Expiration Time: ${f.expirationTime}`,
  ].join('\n');
}

/** Parses an EIP-4361 message of the form above; null when it is not one. */
export function parseSignInMessage(text: string): SignInFields | null {
  const lines = text.split('\n');
  if (lines.length !== 11 || lines[2] !== '' || lines[4] !== '' || lines[6] !== 'Version: 1') return null;
  const head = /^(.{1,255}) wants you to sign in with your Ethereum account:$/.exec(lines[0]!);
  const address = /^0x[0-9a-fA-F]{40}$/.exec(lines[1]!);
  const role = (Object.keys(STATEMENT) as Role[]).find((r) => STATEMENT[r] === lines[3]);
  const field = (line: string | undefined, name: string) => (line?.startsWith(`${name}: `) ? line.slice(name.length + 2) : null);
  const uri = field(lines[5], 'URI');
  const chainId = Number(field(lines[7], 'Chain ID'));
  const nonce = field(lines[8], 'Nonce');
  const issuedAt = field(lines[9], 'Issued At');
  const expirationTime = field(lines[10], 'Expiration Time');
  if (!head || !address || !role || !uri || !Number.isSafeInteger(chainId) || chainId <= 0 || !nonce || !issuedAt || !expirationTime) return null;
  return { domain: head[1]!, address: address[0], uri, chainId, nonce, issuedAt, expirationTime, role };
}

// ── money arithmetic both ends agree on ────────────────────────────────────

/** What `seconds` of a job cost at `pricePerHour` (base units), rounded down. */
export function amountForSeconds(seconds: number, pricePerHour: bigint): bigint {
  return (BigInt(Math.max(0, Math.floor(seconds))) * pricePerHour) / 3600n;
}
