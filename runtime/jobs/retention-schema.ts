/**
 * How long finished jobs' folders (<home>/jobs/<id>: output, log, staged inputs) are kept: the
 * settings file's `retention` section, lockable by the admin policy, and what the Settings page
 * and the job view show about it. Pure zod (the renderer type-checks against it).
 *
 * Defaults (docs/sandbox.md#retention): 7 days and 1 GiB. A week lets the owner look back at
 * anything from the last working week; 1 GiB is well under 1% of a gaming PC's disk. The demo
 * loop writes about 1.4 MB a job, some 170 MB an hour: there the size rule binds first and keeps
 * the last six hours or so, which is what the dashboard's list shows anyway.
 */
import { z } from 'zod';

export const retentionSettingsSchema = z
  .object({
    /** A finished job's folder is removed this many days after the job ended. */
    maxAgeDays: z.number().int().min(1).max(3650),
    /** Job folders together stay under this; the oldest finished ones go first. */
    maxTotalMiB: z.number().int().min(16).max(16 * 1024 * 1024),
  })
  .strict();
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const retentionPatchSchema = retentionSettingsSchema.partial().strict();
export type RetentionPatch = z.infer<typeof retentionPatchSchema>;

export const defaultRetentionSettings: RetentionSettings = { maxAgeDays: 7, maxTotalMiB: 1024 };

/** Which rule removed a job's folder. */
export const retentionRuleSchema = z.enum(['age', 'size']);
export type RetentionRule = z.infer<typeof retentionRuleSchema>;

/** A job whose output and log retention removed: when, by which rule, how many bytes. */
export const retentionRemovalSchema = z.object({ at: z.number(), rule: retentionRuleSchema, bytes: z.number().int().nonnegative() }).strict();
export type RetentionRemoval = z.infer<typeof retentionRemovalSchema>;

export const retentionViewSchema = z.object({
  effective: retentionSettingsSchema,
  /** Dotted paths the administrator locked (e.g. `retention.maxTotalMiB`). */
  locked: z.array(z.string()),
  user: retentionPatchSchema,
  usage: z.object({
    /** All job folders together. */
    bytes: z.number().int().nonnegative(),
    jobs: z.number().int().nonnegative(),
    /** Of those, what retention may not remove yet: jobs still running, outputs not yet collected or sent. */
    heldBytes: z.number().int().nonnegative(),
    heldJobs: z.number().int().nonnegative(),
    /** When the oldest kept job ended (null: none kept). */
    oldestEndedAt: z.number().nullable(),
  }),
  /** The last time the rule was applied (null: not yet since the agent started). */
  lastRun: z.object({ at: z.number(), removedJobs: z.number().int().nonnegative(), freedBytes: z.number().int().nonnegative() }).nullable(),
  /** How often the rule is applied while the agent runs. */
  intervalMs: z.number().int().positive(),
});
export type RetentionView = z.infer<typeof retentionViewSchema>;

/** `jobs.retention`: an empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
export const jobsRetentionInputSchema = retentionPatchSchema;
