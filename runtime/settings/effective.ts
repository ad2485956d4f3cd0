/**
 * Effective settings = defaults, then the policy's recommended values, then the user's, then the
 * policy's mandatory values. Mandatory leaves are locked. Pure.
 */
import type { LoadedPolicy } from '../policy/schema.js';
import { describeIssues } from './issues.js';
import { deepMerge, leafPaths } from './merge.js';
import { settingsSections, type SectionName, type SectionPatch, type SectionValue, type SettingsSection } from './sections.js';

export type Effective<K extends SectionName> =
  | {
      ok: true;
      value: SectionValue<K>;
      locked: string[];
      recommended: string[];
      /** False when the user's values clashed with the admin's and were set aside. */
      userApplied: boolean;
    }
  | { ok: false; message: string; locked: string[]; recommended: string[] };

export function effectiveSection<K extends SectionName>(name: K, user: SectionPatch<K> | undefined, policy: LoadedPolicy): Effective<K> {
  const section: SettingsSection<unknown, unknown> = settingsSections[name];
  const mandatory = policy.state === 'ok' ? policy.mandatory[name] : undefined;
  const recommendedLayer = policy.state === 'ok' ? policy.recommended[name] : undefined;
  const locked = leafPaths(mandatory).map((p) => `${name}.${p}`);
  const recommended = leafPaths(recommendedLayer).map((p) => `${name}.${p}`);
  const merged = deepMerge(section.defaults, recommendedLayer, user, mandatory);
  // A default or recommended value may clash with a value the user or the admin chose (e.g.
  // the default resume temperature above a chosen pause temperature): it is mended. Values
  // that the user and the admin chose themselves are never changed.
  const chosen = [...leafPaths(mandatory), ...leafPaths(user)];
  const withUser = [merged, section.reconcile?.(merged, chosen)];
  for (const candidate of withUser) {
    if (candidate === undefined) continue;
    const r = section.full.safeParse(candidate);
    if (r.success) return { ok: true, value: r.data as SectionValue<K>, locked, recommended, userApplied: true };
  }
  const firstError = section.full.safeParse(merged);
  // The user's values clash with the admin's: the admin wins, the user's choices are set aside.
  if (mandatory !== undefined) {
    const withoutUser = deepMerge(section.defaults, recommendedLayer, mandatory);
    for (const candidate of [withoutUser, section.reconcile?.(withoutUser, leafPaths(mandatory))]) {
      if (candidate === undefined) continue;
      const r = section.full.safeParse(candidate);
      if (r.success) return { ok: true, value: r.data as SectionValue<K>, locked, recommended, userApplied: false };
    }
  }
  return { ok: false, message: firstError.success ? 'invalid' : describeIssues(firstError.error, name), locked, recommended };
}
