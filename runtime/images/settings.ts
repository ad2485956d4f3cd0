/** The image store's settings in force (defaults ← admin's recommended ← the user's ← admin's mandatory) and the check of a change. */
import type { LoadedPolicy } from '../policy/schema.js';
import { checkSectionPatch } from '../settings/check-patch.js';
import { effectiveSection, type Effective } from '../settings/effective.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultImageSettings, type ImagePatch, type ImageSettings } from './schema.js';

export function effectiveImages(settings: SettingsStore, policy: LoadedPolicy): Effective<'images'> {
  return effectiveSection('images', settings.section('images').patch, policy);
}

export function imagesValue(e: Effective<'images'>): ImageSettings {
  // Unusable layers (a malformed policy): the defaults, which bound the disk all the same.
  return e.ok ? e.value : defaultImageSettings;
}

export function checkImagesPatch(patch: ImagePatch, current: Effective<'images'>, policy: LoadedPolicy): void {
  checkSectionPatch('images', patch, imagesValue(current), current, policy);
}
