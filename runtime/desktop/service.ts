/**
 * The `desktop.*` commands: the desktop app's settings (stored by the agent in the settings
 * file's `desktop` section, lockable by the admin policy) and what the attached desktop app
 * reports about itself. The agent only stores and validates; the desktop app applies them.
 */
import { AppError } from '../errors.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection } from '../settings/effective.js';
import { isLocked, leafPaths } from '../settings/merge.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultDesktopSettings, type DesktopHost, type DesktopPatch, type DesktopView } from './schema.js';

export interface DesktopServiceOptions {
  settings: SettingsStore;
  policy: () => LoadedPolicy;
  /** Called when the host report changes (settings changes come through the store's listener). */
  onChange?: (view: DesktopView) => void;
}

export interface DesktopService {
  view(): DesktopView;
  set(patch: DesktopPatch): DesktopView;
  /** The desktop app reports itself (mode, keychain, update); null when it detaches. */
  setHost(host: DesktopHost | null): DesktopView;
}

function valueAt(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

export function createDesktopService(options: DesktopServiceOptions): DesktopService {
  let host: DesktopHost | null = null;
  const view = (): DesktopView => {
    const user = options.settings.section('desktop');
    const e = effectiveSection('desktop', user.patch, options.policy());
    return { effective: e.ok ? e.value : defaultDesktopSettings, locked: e.locked, user: user.patch ?? {}, host };
  };
  const changed = () => {
    const v = view();
    options.onChange?.(v);
    return v;
  };
  return {
    view,
    set(patch) {
      const current = view();
      for (const path of leafPaths(patch)) {
        if (!isLocked(`desktop.${path}`, current.locked)) continue;
        if (JSON.stringify(valueAt(patch, path)) === JSON.stringify(valueAt(current.effective, path))) continue;
        const policy = options.policy();
        throw new AppError(
          'locked-by-policy',
          `desktop.${path} is set by your administrator (${policy.file}) and cannot be changed here. Ask your administrator to change the policy.`,
        );
      }
      // The store's change listener (in the agent) announces the new view to every page.
      if (leafPaths(patch).length > 0) options.settings.update('desktop', patch);
      return view();
    },
    setHost(next) {
      host = next;
      return changed();
    },
  };
}
