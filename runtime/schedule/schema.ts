/**
 * The availability settings (`settings.schedule`), the admin policy's shape for them, and the
 * payloads of the schedule commands. Pure zod: the renderer type-checks against this file.
 * Fields may be added, never renamed.
 */
import { z } from 'zod';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const daySchema = z.enum(DAYS);
export type Day = z.infer<typeof daySchema>;

/** "HH:MM", 00:00–23:59. */
export const clockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as "HH:MM" (00:00 to 23:59)');

export const scheduleWindowSchema = z
  .object({
    days: z.array(daySchema).min(1, 'a window needs at least one day'),
    start: clockTimeSchema,
    end: clockTimeSchema,
  })
  .strict();
export type ScheduleWindow = z.infer<typeof scheduleWindowSchema>;

const idleSchema = z.object({ required: z.boolean(), minutes: z.number().min(0).max(24 * 60) }).strict();
const thermalSchema = z.object({ pauseAtC: z.number().min(30).max(120), resumeBelowC: z.number().min(20).max(120) }).strict();

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
export const timeZoneSchema = z.string().refine(isValidTimeZone, { message: 'expected an IANA time zone such as "Europe/Berlin"' });

const fields = {
  mode: z.enum(['auto', 'always', 'never']),
  /** An IANA zone, or null for the system's. */
  timezone: timeZoneSchema.nullable(),
  windows: z.array(scheduleWindowSchema),
  idle: idleSchema,
  exclusiveApps: z.array(z.string().trim().min(1)),
  pauseOnForeignGpuUse: z.boolean(),
  foreignGpuMinMiB: z.number().min(0),
  thermal: thermalSchema,
  pauseOnBattery: z.boolean(),
  /** ISO 8601, or null. */
  snoozeUntil: z.iso.datetime({ offset: true }).nullable(),
  /** `offshift pause` without a duration: paused until the owner resumes. */
  pausedUntilResumed: z.boolean(),
  /** "stop": free the GPU now; "pause": freeze the job, keep its memory. */
  onUserReturn: z.enum(['stop', 'pause']),
  pauseGraceMinutes: z.number().min(0).max(24 * 60),
  /** With "stop": seconds between SIGTERM and SIGKILL. */
  stopGraceSeconds: z.number().min(0).max(60),
};

export const scheduleSettingsSchema = z
  .object(fields)
  .strict()
  .refine((s) => s.thermal.resumeBelowC <= s.thermal.pauseAtC, {
    message: 'thermal.resumeBelowC must be at or below thermal.pauseAtC',
    path: ['thermal', 'resumeBelowC'],
  });
export type ScheduleSettings = z.infer<typeof scheduleSettingsSchema>;

/** What the user file, a policy's `mandatory` or `recommended`, and `schedule.set` hold: any subset. */
export const schedulePatchSchema = z
  .object({
    ...fields,
    idle: idleSchema.partial(),
    thermal: thermalSchema.partial(),
  })
  .partial()
  .strict();
export type SchedulePatch = z.infer<typeof schedulePatchSchema>;

export const defaultScheduleSettings: ScheduleSettings = {
  mode: 'auto',
  timezone: null,
  windows: [],
  idle: { required: true, minutes: 5 },
  exclusiveApps: [],
  pauseOnForeignGpuUse: true,
  foreignGpuMinMiB: 1024,
  thermal: { pauseAtC: 83, resumeBelowC: 75 },
  pauseOnBattery: true,
  snoozeUntil: null,
  pausedUntilResumed: false,
  onUserReturn: 'stop',
  pauseGraceMinutes: 10,
  stopGraceSeconds: 2,
};

export const decisionReasonSchema = z.enum([
  'mode-never',
  'snoozed',
  'too-hot',
  'on-battery',
  'exclusive-app',
  'foreign-gpu-use',
  'mode-always',
  'outside-schedule',
  'user-active',
  'ok',
  'policy-invalid',
  'settings-invalid',
  'admin-pause',
]);
export type DecisionReason = z.infer<typeof decisionReasonSchema>;

export const decisionSchema = z.object({ run: z.boolean(), reason: decisionReasonSchema, detail: z.string() });
export type Decision = z.infer<typeof decisionSchema>;

export const policyStatusSchema = z.object({
  /** `none`: no policy file; `ok`: read and applied; `invalid`: malformed, work is held back. */
  state: z.enum(['none', 'ok', 'invalid']),
  file: z.string(),
  message: z.string(),
});
export type PolicyStatus = z.infer<typeof policyStatusSchema>;

/** `schedule.get`: what the Schedule page and `offshift schedule show` need. */
export const scheduleViewSchema = z.object({
  effective: scheduleSettingsSchema,
  /** Dotted field paths an administrator set (e.g. `schedule.idle.minutes`); shown locked. */
  locked: z.array(z.string()),
  /** Dotted field paths an administrator recommends (defaults the user may change). */
  recommended: z.array(z.string()),
  /** The user's own choices (only what they changed). */
  user: schedulePatchSchema,
  policy: policyStatusSchema,
  /** The latest decision, if the agent has made one. */
  decision: decisionSchema.nullable(),
  /** e.g. "no idle source: schedule only", when the idle rule cannot be applied. */
  notes: z.array(z.string()),
  /** The zone the windows are read in (the setting, or the system's). */
  timezone: z.string(),
});
export type ScheduleView = z.infer<typeof scheduleViewSchema>;

export const pauseInputSchema = z
  .object({
    /** Minutes from now. */
    forMinutes: z.number().positive().max(60 * 24 * 365).optional(),
    /** ISO 8601. */
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((v) => !(v.forMinutes !== undefined && v.until !== undefined), { message: 'give forMinutes or until, not both' });

export const runningProcessSchema = z.object({ name: z.string(), count: z.number().int() });
