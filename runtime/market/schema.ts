/**
 * The marketplace's payloads in the agent's API (market.* commands, the market.update event):
 * what the dashboard's Marketplace page and the tray show. Pure zod.
 */
import { z } from 'zod';
import { addressSchema, baseUnitsSchema } from '../wallet/schema.js';
import { declineReasonSchema } from '../../protocol/index.js';
import { marketPatchSchema, marketSettingsSchema } from './settings.js';

export const connectionStateSchema = z.enum([
  /** No market: switched off, or no URL and the demo is off. */
  'off',
  /** The demo network is being started (local chain, market, demo buyer). */
  'starting-demo',
  /** Waiting for the owner to unlock (or create) the wallet: identity is the wallet. */
  'wallet-locked',
  'connecting',
  'signing-in',
  'connected',
  /** Lost or refused; retrying with backoff at `nextRetryAt`. */
  'retrying',
  /** Refused for a reason retrying cannot fix (insecure URL, unsupported version): see `reason`. */
  'refused',
]);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const offerRecordSchema = z.object({
  offerId: z.string(),
  jobId: z.string(),
  at: z.number(),
  buyer: addressSchema,
  image: z.string(),
  gpus: z.number().int(),
  pricePerHour: baseUnitsSchema,
  maxDurationSeconds: z.number().int(),
  accepted: z.boolean(),
  reason: declineReasonSchema.nullable(),
  /** The decision in plain words ("Accepted", "Declined: the price is below your floor of …"). */
  detail: z.string(),
});
export type OfferRecord = z.infer<typeof offerRecordSchema>;

export const marketJobRecordSchema = z.object({
  /** The market's job id, and the local job it runs as (jobs.get). */
  jobId: z.string(),
  localJobId: z.string(),
  buyer: addressSchema,
  pricePerHour: baseUnitsSchema,
  reportIntervalSeconds: z.number().int(),
  state: z.string(),
  startedAt: z.number().nullable(),
  usageSeconds: z.number().int(),
  /** What the usage so far costs. */
  amountDue: baseUnitsSchema,
  /** The highest valid voucher's cumulative amount: paid up to here. */
  paidUpTo: baseUnitsSchema,
  lastVoucherAt: z.number().nullable(),
  /** Why the last voucher was refused, if it was. */
  voucherProblem: z.string().nullable(),
});
export type MarketJobRecord = z.infer<typeof marketJobRecordSchema>;

export const marketStatusSchema = z.object({
  network: z.enum(['demo', 'real', 'off']),
  url: z.string().nullable(),
  state: connectionStateSchema,
  /** Why, in plain words, with what to do next where there is something to do. */
  reason: z.string(),
  since: z.number(),
  nextRetryAt: z.number().nullable(),
  address: addressSchema.nullable(),
  settings: marketSettingsSchema,
  /** Fields the admin policy locks. */
  locked: z.array(z.string()),
  /** From the benchmark score when one exists, else from VRAM alone; base units per GPU-hour. */
  suggestedPricePerGpuHour: baseUnitsSchema.nullable(),
  suggestionBasis: z.string().nullable(),
  /** The most recent offers, newest first (at most 50). */
  offers: z.array(offerRecordSchema),
  /** Marketplace jobs running now. */
  jobs: z.array(marketJobRecordSchema),
  tokenSymbol: z.string(),
  tokenDecimals: z.number().int(),
  /**
   * On the demo network: whether the demo buyer sends GPU jobs too (`gpu`), and in plain words why
   * it sends CPU jobs only where it does (no NVIDIA GPU, no NVIDIA container runtime in Docker…).
   * Null when the network is not the demo, or the demo buyer has not decided yet.
   */
  demoJobs: z.object({ gpu: z.boolean(), reason: z.string() }).nullable().optional(),
});
export type MarketStatus = z.infer<typeof marketStatusSchema>;

export const marketSettingsInputSchema = marketPatchSchema;

export const demoStatusSchema = z.object({
  running: z.boolean(),
  /** What runs: the local chain, the market, the demo buyer (each with its pid or null). */
  chain: z.object({ rpcUrl: z.string().nullable(), running: z.boolean() }),
  market: z.object({ url: z.string().nullable(), running: z.boolean() }),
  buyer: z.object({ address: addressSchema.nullable(), running: z.boolean(), jobsSubmitted: z.number().int() }),
  detail: z.string(),
});
export type DemoStatus = z.infer<typeof demoStatusSchema>;
