import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyLoginItem, HIDDEN_ARG, loginItemEnabled, loginItemPlan } from '../../../main/desktop/login-item.js';
import { keychainStatus, PasswordMemory, type SafeStorageLike } from '../../../main/desktop/password-memory.js';
import { startUpdater, updaterPlan, type AutoUpdaterLike } from '../../../main/desktop/updater.js';
import { loadWindowState, restoreBounds, saveWindowState } from '../../../main/desktop/window-state.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: Array<() => void> = [];
afterEach(() => temps.splice(0).forEach((c) => c()));
const temp = () => {
  const t = makeTempHome('offshift-desktop-');
  temps.push(t.cleanup);
  return t.home;
};

describe('open at login', () => {
  const ctx = { exec: '/opt/Offshift/offshift', args: [], env: {}, home: '/home/ann' };
  it('Windows and macOS: Electron\'s login item, opened hidden in the tray', () => {
    expect(loginItemPlan(true, { ...ctx, platform: 'win32' })).toEqual({ kind: 'electron', settings: { openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] } });
    expect(loginItemPlan(false, { ...ctx, platform: 'darwin' })).toMatchObject({ kind: 'electron', settings: { openAtLogin: false } });
  });
  it('Linux: an XDG autostart entry that starts the app hidden (the AppImage path when there is one), removed when off', () => {
    const plan = loginItemPlan(true, { ...ctx, platform: 'linux', env: { APPIMAGE: '/home/ann/Apps/Offshift 1.AppImage' } });
    expect(plan.kind).toBe('xdg');
    if (plan.kind !== 'xdg') return;
    expect(plan.file).toBe('/home/ann/.config/autostart/offshift.desktop');
    expect(plan.content).toContain('Exec="/home/ann/Apps/Offshift 1.AppImage" --hidden\n');
    expect(plan.content).toContain('[Desktop Entry]\nType=Application\nName=Offshift');
    expect(loginItemPlan(true, { ...ctx, platform: 'linux', env: { XDG_CONFIG_HOME: '/cfg' } })).toMatchObject({ file: '/cfg/autostart/offshift.desktop' });
    expect(loginItemPlan(false, { ...ctx, platform: 'linux' })).toMatchObject({ kind: 'xdg', content: null });
    expect(loginItemPlan(true, { ...ctx, platform: 'freebsd' }).kind).toBe('unsupported');
  });
  it('applies them: writes and removes the entry, or calls setLoginItemSettings', () => {
    const home = temp();
    const app = { setLoginItemSettings: vi.fn() };
    const on = loginItemPlan(true, { ...ctx, platform: 'linux', home });
    expect(applyLoginItem(on, app)).toBeNull();
    expect(loginItemEnabled(on, () => ({ openAtLogin: false }))).toBe(true);
    expect(fs.readFileSync(path.join(home, '.config', 'autostart', 'offshift.desktop'), 'utf8')).toContain('--hidden');
    const off = loginItemPlan(false, { ...ctx, platform: 'linux', home });
    expect(applyLoginItem(off, app)).toBeNull();
    expect(loginItemEnabled(off, () => ({ openAtLogin: false }))).toBe(false);
    applyLoginItem(loginItemPlan(true, { ...ctx, platform: 'darwin' }), app);
    expect(app.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true, openAsHidden: true, args: ['--hidden'] });
  });
});

describe('the wallet password in the OS keychain (safeStorage)', () => {
  const storage = (backend: string, available = true): SafeStorageLike => ({
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (t) => Buffer.from(`enc:${t}`),
    decryptString: (d) => {
      if (!d.toString().startsWith('enc:')) throw new Error('bad');
      return d.toString().slice(4);
    },
  });
  it('refuses Linux\'s basic_text (a key that is the same everywhere) and says why; accepts a real keychain', () => {
    const refused = keychainStatus('linux', true, 'basic_text');
    expect(refused.available).toBe(false);
    expect(refused.reason).toMatch(/basic_text.*same on every computer.*GNOME Keyring or KWallet/);
    expect(keychainStatus('linux', true, 'gnome_libsecret')).toEqual({ available: true, backend: 'gnome_libsecret', reason: null });
    expect(keychainStatus('linux', true, 'kwallet5').available).toBe(true);
    expect(keychainStatus('darwin', true, null)).toEqual({ available: true, backend: 'macOS Keychain', reason: null });
    expect(keychainStatus('win32', false, null).available).toBe(false);
  });
  it('remembers encrypted (0600), recalls, forgets in one call; never writes with basic_text', () => {
    const dir = temp();
    const memory = new PasswordMemory(dir, storage('gnome_libsecret'), 'linux');
    memory.remember('correct horse');
    const file = path.join(dir, 'wallet-password.bin');
    expect(fs.readFileSync(file, 'utf8')).toBe('enc:correct horse');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(memory.recall()).toBe('correct horse');
    memory.forget();
    expect(memory.remembered).toBe(false);
    expect(memory.recall()).toBeNull();

    const plain = new PasswordMemory(dir, storage('basic_text'), 'linux');
    expect(() => plain.remember('pw')).toThrow(/basic_text/);
    expect(fs.existsSync(file)).toBe(false);
  });
  it('a password that no longer decrypts (keychain reset) is forgotten, not retried', () => {
    const dir = temp();
    fs.writeFileSync(path.join(dir, 'wallet-password.bin'), 'garbage');
    const memory = new PasswordMemory(dir, storage('kwallet5'), 'linux');
    expect(memory.recall()).toBeNull();
    expect(memory.remembered).toBe(false);
  });
});

describe('window size and position', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1040 }];
  it('restores what was saved when it is on a display now', () => {
    expect(restoreBounds({ x: 100, y: 50, width: 1000, height: 700, maximized: true }, screen)).toEqual({ bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true });
  });
  it('a window saved on a monitor that is gone comes back on this one (size kept, position left to the OS)', () => {
    expect(restoreBounds({ x: 3000, y: 50, width: 1000, height: 700, maximized: false }, screen)).toEqual({ bounds: { width: 1000, height: 700 }, maximized: false });
    expect(restoreBounds({ x: 100, y: -500, width: 1000, height: 700, maximized: false }, screen).bounds.x).toBeUndefined();
  });
  it('defaults, and never smaller than the minimum', () => {
    expect(restoreBounds(null, screen)).toEqual({ bounds: { width: 1200, height: 800 }, maximized: false });
    expect(restoreBounds({ x: 0, y: 0, width: 300, height: 300, maximized: false }, screen).bounds).toMatchObject({ width: 800, height: 560 });
  });
  it('saves and loads; a corrupt file is ignored', () => {
    const dir = temp();
    saveWindowState(dir, { x: 10.4, y: 20, width: 900, height: 600, maximized: false });
    expect(loadWindowState(dir)).toEqual({ x: 10, y: 20, width: 900, height: 600, maximized: false });
    fs.writeFileSync(path.join(dir, 'window-state.json'), '{"x":');
    expect(loadWindowState(dir)).toBeNull();
  });
});

describe('updates', () => {
  it('active only in a packaged build that can replace itself; a deb says how to update', () => {
    expect(updaterPlan({ isPackaged: false, platform: 'win32', packageType: null, appImage: undefined })).toMatchObject({ active: false, status: expect.stringContaining('development checkout') });
    expect(updaterPlan({ isPackaged: true, platform: 'linux', packageType: 'deb', appImage: undefined })).toMatchObject({ active: false, status: expect.stringContaining('sudo apt install ./Offshift-<version>.deb') });
    expect(updaterPlan({ isPackaged: true, platform: 'linux', packageType: null, appImage: '/a/Offshift.AppImage' })).toEqual({ active: true });
    expect(updaterPlan({ isPackaged: true, platform: 'win32', packageType: null, appImage: undefined })).toEqual({ active: true });
  });

  function fakeUpdater() {
    const listeners = new Map<string, (arg?: unknown) => void>();
    const u = {
      channel: null as string | null,
      allowPrerelease: false,
      allowDowngrade: true,
      autoDownload: false,
      autoInstallOnAppQuit: false,
      on: vi.fn((event: string, l: (arg?: unknown) => void) => listeners.set(event, l)),
      checkForUpdates: vi.fn(async () => undefined),
      quitAndInstall: vi.fn(),
      emit: (event: string, arg?: unknown) => listeners.get(event)!(arg),
    };
    return u;
  }

  it('checks at start and every few hours on the chosen channel, downloads in the background, installs on quit, says when ready', async () => {
    vi.useFakeTimers();
    try {
      const u = fakeUpdater();
      const onChange = vi.fn();
      const updater = startUpdater({ plan: { active: true }, channel: 'beta', load: async () => u as unknown as AutoUpdaterLike, onChange, warn: () => {}, intervalMs: 3_600_000 });
      await vi.advanceTimersByTimeAsync(0);
      expect(u).toMatchObject({ channel: 'beta', allowPrerelease: true, allowDowngrade: false, autoDownload: true, autoInstallOnAppQuit: true });
      expect(u.checkForUpdates).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(3_600_000);
      expect(u.checkForUpdates).toHaveBeenCalledTimes(2);
      updater.setChannel('stable');
      expect(u).toMatchObject({ channel: 'latest', allowPrerelease: false });
      u.emit('update-downloaded', { version: '0.2.0' });
      expect(updater.ready).toEqual({ version: '0.2.0' });
      expect(updater.status).toContain('Update 0.2.0 ready');
      expect(onChange).toHaveBeenCalled();
      updater.installNow();
      expect(u.quitAndInstall).toHaveBeenCalled();
      updater.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('an inactive plan never loads electron-updater', () => {
    const load = vi.fn();
    const updater = startUpdater({ plan: { active: false, status: 'deb: use apt' }, channel: 'stable', load, onChange: () => {}, warn: () => {} });
    expect(load).not.toHaveBeenCalled();
    expect(updater.status).toBe('deb: use apt');
  });
});
