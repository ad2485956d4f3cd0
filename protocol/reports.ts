/**
 * What a provider reports of a job it runs (its state, signed usage, output chunks, its end), and
 * the money arithmetic both ends agree on.
 */
import { z } from 'zod';
import { marketJobIdSchema, shortText } from './common.js';
import { OUTPUT_CHUNK_BYTES } from './limits.js';
import { addressSchema, baseUnitsSchema } from './values.js';

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

/** What `seconds` of a job cost at `pricePerHour` (base units), rounded down. */
export function amountForSeconds(seconds: number, pricePerHour: bigint): bigint {
  return (BigInt(Math.max(0, Math.floor(seconds))) * pricePerHour) / 3600n;
}
