/**
 * The `market` section of the settings file: where the agent finds work and on what terms.
 * Lockable by the admin policy like every other section. Prices are token base units (decimal
 * strings); the CLI takes decimal token amounts and converts. Pure zod.
 */
import { z } from 'zod';
import { addressSchema, baseUnitsSchema } from '../wallet/schema.js';

export const marketSettingsSchema = z
  .object({
    /** The market's WebSocket URL; null: the demo network on this computer (unless `demo` is false). */
    url: z.string().max(2048).nullable(),
    /** With no URL: run the demo network (local chain, reference market, demo buyer). False: no market at all. */
    demo: z.boolean(),
    /** False: do not connect at all (`offshift market config --off`). */
    enabled: z.boolean(),
    /** Plain ws:// to a host that is not loopback is refused unless this is true. */
    allowInsecure: z.boolean(),
    minPricePerGpuHour: baseUnitsSchema,
    minPricePerJobHour: baseUnitsSchema,
    /** The slowest usage-report interval accepted (a buyer asking for longer is declined): bounds unpaid work. */
    reportIntervalMaxSeconds: z.number().int().min(5).max(300),
    /** The longest job accepted, whatever the schedule says. */
    maxJobSeconds: z.number().int().positive().max(30 * 86_400),
    /** How long running jobs go on while the market is unreachable. */
    disconnectGraceSeconds: z.number().int().min(10).max(3600),
    denyImages: z.array(z.string().max(300)).max(200),
    denyBuyers: z.array(addressSchema).max(200),
  })
  .strict();
export type MarketSettings = z.infer<typeof marketSettingsSchema>;

export const marketPatchSchema = marketSettingsSchema.partial().strict();
export type MarketPatch = z.infer<typeof marketPatchSchema>;

/** 0.25 token per GPU-hour and 0.1 per job-hour (18 decimals): the demo buyer pays more than that. */
export const defaultMarketSettings: MarketSettings = {
  url: null,
  demo: true,
  enabled: true,
  allowInsecure: false,
  minPricePerGpuHour: '250000000000000000',
  minPricePerJobHour: '100000000000000000',
  reportIntervalMaxSeconds: 60,
  maxJobSeconds: 24 * 3600,
  disconnectGraceSeconds: 120,
  denyImages: [],
  denyBuyers: [],
};
