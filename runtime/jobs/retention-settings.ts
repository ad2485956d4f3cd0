/**
 * The retention rule in force (defaults ← admin's recommended ← the user's ← admin's mandatory)
 * and the check of a change before it is saved (an admin's lock refuses it, naming the policy file).
 */
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection, type Effective } from '../settings/effective.js';
import { checkSectionPatch } from '../settings/check-patch.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultRetentionSettings, type RetentionPatch, type RetentionSettings } from './retention-schema.js';

export function effectiveRetention(settings: SettingsStore, policy: LoadedPolicy): Effective<'retention'> {
  return effectiveSection('retention', settings.section('retention').patch, policy);
}

export function retentionValue(e: Effective<'retention'>): RetentionSettings {
  // Unusable layers (a malformed policy): the defaults, which bound the disk all the same.
  return e.ok ? e.value : defaultRetentionSettings;
}

/** Refuses a change to a field the administrator locked (sending the locked value unchanged is fine). Pure. */
export function checkRetentionPatch(patch: RetentionPatch, current: Effective<'retention'>, policy: LoadedPolicy): void {
  checkSectionPatch('retention', patch, retentionValue(current), current, policy);
}
