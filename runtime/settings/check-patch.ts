/**
 * The check of a change to a settings section before it is saved: an administrator's lock refuses
 * it, naming the policy file (sending the locked value unchanged is fine). Pure.
 */
import { AppError } from '../errors.js';
import { describePolicy } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { Effective } from './effective.js';
import { isLocked, leafPaths } from './merge.js';
import type { SectionName, SectionPatch, SectionValue } from './sections.js';

export function checkSectionPatch<K extends SectionName>(name: K, patch: SectionPatch<K>, value: SectionValue<K>, current: Effective<K>, policy: LoadedPolicy): void {
  if (policy.state === 'invalid') throw new AppError('policy-invalid', `${describePolicy(policy)} Settings cannot be changed until then.`);
  for (const p of leafPaths(patch)) {
    if (!isLocked(`${name}.${p}`, current.locked)) continue;
    const key = p as keyof SectionPatch<K> & keyof SectionValue<K>;
    if ((patch[key] as unknown) === (value[key] as unknown)) continue;
    throw new AppError('locked-by-policy', `${name}.${p} is set by your administrator (${policy.file}) and cannot be changed here. Ask your administrator to change the policy.`);
  }
}
