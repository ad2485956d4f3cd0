/** The desktop settings as the agent stores them (runtime/desktop): read, change, admin locks, bad input. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { createDesktopService } from '../../../runtime/desktop/service.js';
import { defaultDesktopSettings, desktopPatchSchema } from '../../../runtime/desktop/schema.js';
import type { LoadedPolicy } from '../../../runtime/policy/schema.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: Array<() => void> = [];
afterEach(() => temps.splice(0).forEach((c) => c()));

function service(policy: LoadedPolicy = { state: 'none', file: '' }) {
  const t = makeTempHome('offshift-desktop-settings-');
  temps.push(t.cleanup);
  const settings = openSettingsStore(t.home);
  const onChange = vi.fn();
  return { home: t.home, settings, onChange, desktop: createDesktopService({ settings, policy: () => policy, onChange }) };
}

describe('desktop settings (agent side)', () => {
  it('reads the defaults, keeps a change in settings.json beside the other sections, and reports the host', () => {
    const { home, desktop, onChange } = service();
    expect(desktop.view()).toEqual({ effective: defaultDesktopSettings, locked: [], user: {}, host: null });
    const v = desktop.set({ openAtLogin: true, notifications: { jobFinished: false } });
    expect(v.effective.openAtLogin).toBe(true);
    expect(v.effective.notifications).toEqual({ ...defaultDesktopSettings.notifications, jobFinished: false });
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).desktop).toEqual({ openAtLogin: true, notifications: { jobFinished: false } });
    const host = { mode: 'embedded' as const, keychain: { available: false, backend: 'basic_text', reason: 'no keychain' }, passwordRemembered: false, update: 'up to date', openAtLogin: true };
    expect(desktop.setHost(host).host).toEqual(host);
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ host }));
  });

  it('an administrator\'s mandatory field is locked: changing it is refused with who set it; sending it unchanged is fine', () => {
    const { desktop } = service({ state: 'ok', file: '/etc/offshift/policy.json', mandatory: { desktop: { updateChannel: 'stable' } }, recommended: {} });
    expect(desktop.view().locked).toEqual(['desktop.updateChannel']);
    let error: unknown;
    try {
      desktop.set({ updateChannel: 'beta' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('locked-by-policy');
    expect((error as AppError).message).toContain('/etc/offshift/policy.json');
    expect(desktop.set({ updateChannel: 'stable', closeToTray: false }).effective.closeToTray).toBe(false);
  });

  it('bad input is refused by the schema (unknown kinds, wrong types), losing nothing', () => {
    expect(desktopPatchSchema.safeParse({ notifications: { spam: true } }).success).toBe(false);
    expect(desktopPatchSchema.safeParse({ updateChannel: 'nightly' }).success).toBe(false);
    expect(desktopPatchSchema.safeParse({ openAtLogin: 'yes' }).success).toBe(false);
    expect(desktopPatchSchema.safeParse({}).success).toBe(true);
  });
});
