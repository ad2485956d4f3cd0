/** Every message of the protocol, by direction: provider ↔ market, buyer ↔ market. */
import { z } from 'zod';
import { advertisementSchema } from './advertisement.js';
import { marketJobIdSchema, nonceSchema, roleSchema, shortText } from './common.js';
import { demandedImageSchema, MAX_DEMAND_IMAGES, pullProgressSchema } from './images.js';
import { MAX_ATTEMPTS } from './limits.js';
import { declineReasonSchema, jobRequestSchema, offerSchema } from './offers.js';
import { jobEndSchema, marketJobStateSchema, outputChunkSchema, usageReportSchema } from './reports.js';
import { addressSchema, baseUnitsSchema, signedVoucherSchema } from './values.js';

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
  /** Revision 2: how far the job's image pull is (not billed). */
  z.object({ type: z.literal('pull-progress'), progress: pullProgressSchema }).strict(),
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
  /** Revision 2: the images buyers asked for most in the market's recent window, most asked first (sent on sign-in and when it changes). */
  z.object({ type: z.literal('demand'), images: z.array(demandedImageSchema).max(MAX_DEMAND_IMAGES) }).strict(),
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
  z
    .object({
      type: z.literal('job-update'),
      jobId: marketJobIdSchema,
      state: marketJobStateSchema,
      provider: addressSchema.nullable(),
      reason: z.string().max(64),
      detail: shortText,
      /** Revision 3: the provider's payout address; the attempt's vouchers must name it as their payee. */
      payee: addressSchema.optional(),
    })
    .strict(),
  z.object({ type: z.literal('usage'), report: usageReportSchema, pricePerHour: baseUnitsSchema }).strict(),
  z.object({ type: z.literal('output'), chunk: outputChunkSchema }).strict(),
  z.object({ type: z.literal('job-ended'), end: jobEndSchema, provider: addressSchema.nullable() }).strict(),
  /** Revision 2: the provider's pull progress, relayed. */
  z.object({ type: z.literal('pull-progress'), progress: pullProgressSchema }).strict(),
  /**
   * One attempt of the job is over but the job is not: its provider was preempted and the market
   * places the job again (`next` is the attempt that follows, of `maxAttempts`). `end` is that
   * provider's ending; its vouchers go on its own channel (buyer, provider, jobId).
   */
  attemptEndedSchema,
]);
export type ToBuyerMessage = z.infer<typeof toBuyerMessageSchema>;
