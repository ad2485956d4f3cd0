/**
 * Effective settings = defaults, then the policy's recommended values, then the user's, then the
 * policy's mandatory values. Mandatory leaves are locked. Pure.
 */
import type { LoadedPolicy } from '../policy/schema.js';
import { describeIssues } from './issues.js';
import { deepMerge, leafPaths } from './merge.js';
import { settingsSections, type SectionName, type SectionPatch, type SectionValue } from './sections.js';

export type Effective<K extends SectionName> =
  | { ok: true; value: SectionValue<K>; locked: string[]; recommended: string[] }
  | { ok: false; message: string; locked: string[]; recommended: string[] };

export function effectiveSection<K extends SectionName>(name: K, user: SectionPatch<K> | undefined, policy: LoadedPolicy): Effective<K> {
  const section = settingsSections[name];
  const mandatory = policy.state === 'ok' ? policy.mandatory[name] : undefined;
  const recommendedLayer = policy.state === 'ok' ? policy.recommended[name] : undefined;
  const locked = leafPaths(mandatory).map((p) => `${name}.${p}`);
  const recommended = leafPaths(recommendedLayer).map((p) => `${name}.${p}`);
  const merged = deepMerge(section.defaults, recommendedLayer, user, mandatory);
  const parsed = section.full.safeParse(merged);
  if (parsed.success) return { ok: true, value: parsed.data as SectionValue<K>, locked, recommended };
  // The user's values may clash with a mandatory one (e.g. a resume temperature above the
  // admin's pause temperature): the admin wins, the user's clashing choices are set aside,
  // and a default that clashes with the admin's value is mended.
  const lockedInSection = leafPaths(mandatory);
  const withoutUser = deepMerge(section.defaults, recommendedLayer, mandatory);
  const candidates = [section.reconcile?.(merged, lockedInSection), withoutUser, section.reconcile?.(withoutUser, lockedInSection)];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const r = section.full.safeParse(candidate);
    if (r.success) return { ok: true, value: r.data as SectionValue<K>, locked, recommended };
  }
  return { ok: false, message: describeIssues(parsed.error, name), locked, recommended };
}
