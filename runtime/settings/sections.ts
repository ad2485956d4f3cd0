/**
 * The sections of the settings file, one per capability: `{ schedule: {...}, wallet: {...} }`.
 * A capability adds its own by adding an entry here: a full schema (what the effective value
 * must satisfy), a patch schema (any subset: what the user file and an admin policy hold) and
 * defaults. Pure zod: the policy schema and the renderer derive from this list.
 */
import type { z } from 'zod';
import { defaultDesktopSettings, desktopPatchSchema, desktopSettingsSchema } from '../desktop/schema.js';
import { defaultRetentionSettings, retentionPatchSchema, retentionSettingsSchema } from '../jobs/retention-schema.js';
import { defaultImageSettings, imagePatchSchema, imageSettingsSchema } from '../images/schema.js';
import { defaultMarketSettings, marketPatchSchema, marketSettingsSchema } from '../market/settings.js';
import { defaultMetricsSettings, metricsPatchSchema, metricsSettingsSchema } from '../metrics/schema.js';
import { defaultSandboxSettings, sandboxPatchSchema, sandboxSettingsSchema } from '../sandbox/settings.js';
import { defaultScheduleSettings, schedulePatchSchema, scheduleSettingsSchema } from '../schedule/schema.js';
import { defaultPayoutSettings, payoutPatchSchema, payoutSettingsSchema } from '../wallet/payout-schema.js';

export interface SettingsSection<Full, Patch> {
  full: z.ZodType<Full>;
  patch: z.ZodType<Patch>;
  defaults: Full;
  /**
   * Mends a merged value whose layers clash (e.g. an admin's pause temperature below the
   * default resume temperature), given the paths the admin locked. Optional.
   */
  reconcile?: (merged: unknown, locked: readonly string[]) => unknown;
}

export const settingsSections = {
  schedule: { full: scheduleSettingsSchema, patch: schedulePatchSchema, defaults: defaultScheduleSettings, reconcile: reconcileSchedule },
  sandbox: { full: sandboxSettingsSchema, patch: sandboxPatchSchema, defaults: defaultSandboxSettings },
  market: { full: marketSettingsSchema, patch: marketPatchSchema, defaults: defaultMarketSettings },
  desktop: { full: desktopSettingsSchema, patch: desktopPatchSchema, defaults: defaultDesktopSettings },
  retention: { full: retentionSettingsSchema, patch: retentionPatchSchema, defaults: defaultRetentionSettings },
  images: { full: imageSettingsSchema, patch: imagePatchSchema, defaults: defaultImageSettings },
  metrics: { full: metricsSettingsSchema, patch: metricsPatchSchema, defaults: defaultMetricsSettings },
  payout: { full: payoutSettingsSchema, patch: payoutPatchSchema, defaults: defaultPayoutSettings },
} satisfies Record<string, SettingsSection<unknown, unknown>>;

/** A resume temperature above the pause temperature: lower it, unless it was chosen (never raise the pause temperature). */
function reconcileSchedule(merged: unknown, locked: readonly string[]): unknown {
  const m = merged as { thermal?: { pauseAtC?: unknown; resumeBelowC?: unknown } };
  const t = m.thermal;
  if (!t || typeof t.pauseAtC !== 'number' || typeof t.resumeBelowC !== 'number' || t.resumeBelowC <= t.pauseAtC) return merged;
  if (!locked.includes('thermal.resumeBelowC')) return { ...m, thermal: { ...t, resumeBelowC: Math.max(20, t.pauseAtC - 8) } };
  return merged;
}

export type SectionName = keyof typeof settingsSections;
export type SectionValue<K extends SectionName> = (typeof settingsSections)[K]['defaults'];
export type SectionPatch<K extends SectionName> = z.infer<(typeof settingsSections)[K]['patch']>;

export function isSectionName(name: string): name is SectionName {
  return Object.prototype.hasOwnProperty.call(settingsSections, name);
}
