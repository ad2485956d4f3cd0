/** What the market shows to anyone who asks (GET /v1/jobs, /v1/providers). */
import { z } from 'zod';
import { advertisementSchema } from './advertisement.js';
import { marketJobIdSchema } from './common.js';
import { marketJobStateSchema } from './reports.js';
import { addressSchema, baseUnitsSchema } from './values.js';

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
