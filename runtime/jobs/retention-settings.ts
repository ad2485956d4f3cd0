/**
 * The retention rule in force (defaults ← admin's recommended ← the user's ← admin's mandatory)
 * and the check of a change before it is saved (an admin's lock refuses it, naming the policy file).
 */
import { AppError } from '../errors.js';
import { describePolicy } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection, type Effective } from '../settings/effective.js';
import { isLocked, leafPaths } from '../settings/merge.js';
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
  if (policy.state === 'invalid') throw new AppError('policy-invalid', `${describePolicy(policy)} Settings cannot be changed until then.`);
  const value = retentionValue(current);
  for (const p of leafPaths(patch)) {
    if (!isLocked(`retention.${p}`, current.locked)) continue;
    const key = p as keyof RetentionPatch;
    if (patch[key] === value[key]) continue;
    throw new AppError('locked-by-policy', `retention.${p} is set by your administrator (${policy.file}) and cannot be changed here. Ask your administrator to change the policy.`);
  }
}
