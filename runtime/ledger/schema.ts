/** Earnings payloads of the API contract (pure zod). Amounts: decimal strings of base units. */
import { z } from 'zod';

// The renderer may import only schema files from runtime/ (eslint.config.js): the one amount format comes with the amount shapes.
export { formatTokens, type TokenFormat } from './tokens.js';

const amount = z.string().regex(/^-?(0|[1-9][0-9]*)$/);
const dateKey = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD');

export const earningsTotalsSchema = z.object({
  /** Owed by usage reports but not yet covered by a voucher. */
  pending: amount,
  /** Covered by a voucher not yet redeemed (and not expired). */
  redeemable: amount,
  redeemed: amount,
  /** Vouched but the voucher expired before it was redeemed. */
  expired: amount,
  withdrawn: amount,
  earned: amount,
  jobs: z.number().int(),
});
export type EarningsTotals = z.infer<typeof earningsTotalsSchema>;

export const earningsSummaryInput = z.object({ timeZone: z.string().optional() }).strict();
export const earningsSummaryOutput = z.object({
  timeZone: z.string(),
  today: amount,
  last7Days: amount,
  last30Days: amount,
  allTime: amount,
  totals: earningsTotalsSchema,
  tokenSymbol: z.string(),
  tokenDecimals: z.number().int(),
});

export const seriesUnitSchema = z.enum(['day', 'week', 'month']);
export const earningsSeriesInput = z
  .object({ unit: seriesUnitSchema.default('day'), from: dateKey.optional(), to: dateKey.optional(), days: z.number().int().min(1).max(3660).optional(), timeZone: z.string().optional() })
  .strict();
export const seriesPointSchema = z.object({ period: z.string(), earned: amount, redeemed: amount, jobs: z.number().int() });
export type SeriesPoint = z.infer<typeof seriesPointSchema>;
export const earningsSeriesOutput = z.object({ timeZone: z.string(), unit: seriesUnitSchema, points: z.array(seriesPointSchema) });

export const earningsByGpuInput = z.object({ from: dateKey.optional(), to: dateKey.optional(), timeZone: z.string().optional() }).strict();
export const earningsByGpuOutput = z.object({ gpus: z.array(z.object({ gpuKey: z.string(), earned: amount, jobs: z.number().int() })) });

export const earningRowSchema = z.object({
  marketJobId: z.string(),
  jobId: z.string().nullable(),
  at: z.number().int(),
  gpus: z.array(z.string()),
  durationMs: z.number().int().nullable(),
  earned: amount,
  paid: amount,
  status: z.enum(['pending', 'redeemable', 'redeemed', 'expired']),
  redeemTx: z.string().nullable(),
  /** Where the job's money goes: the payout address its vouchers name; null: this machine's wallet. */
  paidTo: z.string().nullable(),
});
export type EarningRow = z.infer<typeof earningRowSchema>;
export const earningsJobsInput = z.object({ limit: z.number().int().min(1).max(1000).default(100), offset: z.number().int().min(0).default(0) }).strict();
export const earningsJobsOutput = z.object({ jobs: z.array(earningRowSchema), total: z.number().int() });

export const earningsExportInput = z.object({ from: dateKey.optional(), to: dateKey.optional(), timeZone: z.string().optional() }).strict();
export const earningsExportOutput = z.object({ filename: z.string(), csv: z.string(), rows: z.number().int() });
