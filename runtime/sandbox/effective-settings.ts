import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection } from '../settings/effective.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultSandboxSettings, type SandboxSettings } from './settings.js';

/** The sandbox settings in force: defaults ← admin's recommended ← the user's ← admin's mandatory. */
export function effectiveSandboxSettings(settings: SettingsStore, policy: LoadedPolicy): SandboxSettings {
  const effective = effectiveSection('sandbox', settings.section('sandbox').patch, policy);
  // Unusable settings (a malformed policy): the agent runs no work then anyway.
  return effective.ok ? effective.value : defaultSandboxSettings;
}
