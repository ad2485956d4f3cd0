/**
 * Updates through electron-updater, only in packaged builds: on the channel chosen in Settings
 * (stable or beta), checking at start and every UPDATE_CHECK_MS, downloading in the background
 * and installing when the app quits; the tray and the Settings page show "update ready".
 * Where the app cannot replace itself (a .deb installed by apt, an unpackaged checkout) it says
 * how to update instead. The decision is pure; the adapter loads electron-updater on demand.
 */
export const UPDATE_CHECK_MS = 4 * 3_600_000;

export type UpdaterPlan = { active: true } | { active: false; status: string };

export interface UpdaterContext {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  /** electron-builder's resources/package-type ("deb", "rpm", …) on Linux packages; null when absent. */
  packageType: string | null;
  /** $APPIMAGE when running from an AppImage. */
  appImage: string | undefined;
}

export function updaterPlan(ctx: UpdaterContext): UpdaterPlan {
  if (!ctx.isPackaged) return { active: false, status: 'Updates are off in a development checkout: `git pull && npm ci && npm start` updates it.' };
  if (ctx.platform === 'linux') {
    if (ctx.packageType === 'deb') {
      return {
        active: false,
        status: 'Installed from a .deb package, which only apt may replace: download the new .deb from https://offshift.dev/download and run `sudo apt install ./Offshift-<version>.deb`.',
      };
    }
    if (!ctx.appImage) return { active: false, status: 'This Linux build cannot update itself: install the AppImage (it updates in place) or the new package from https://offshift.dev/download.' };
  }
  return { active: true };
}

export interface AutoUpdaterLike {
  channel: string | null;
  allowPrerelease: boolean;
  allowDowngrade: boolean;
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'update-available', listener: (info: { version: string }) => void): unknown;
  on(event: 'update-not-available', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
}

export interface Updater {
  /** Words for the Settings page. */
  readonly status: string;
  readonly ready: { version: string } | null;
  setChannel(channel: 'stable' | 'beta'): void;
  installNow(): void;
  stop(): void;
}

export function startUpdater(options: {
  plan: UpdaterPlan;
  channel: 'stable' | 'beta';
  load: () => Promise<AutoUpdaterLike>;
  onChange: () => void;
  warn: (message: string, fields?: Record<string, unknown>) => void;
  intervalMs?: number;
}): Updater {
  let status = options.plan.active ? 'Checking for updates…' : options.plan.status;
  let ready: { version: string } | null = null;
  let updater: AutoUpdaterLike | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let channel = options.channel;
  const set = (next: string) => {
    status = next;
    options.onChange();
  };
  const configure = (u: AutoUpdaterLike) => {
    // "latest" is electron-builder's stable channel; beta also takes prereleases.
    u.channel = channel === 'beta' ? 'beta' : 'latest';
    u.allowPrerelease = channel === 'beta';
    u.allowDowngrade = false;
  };
  const check = () => {
    if (!updater || ready) return;
    updater.checkForUpdates().catch((error: unknown) => {
      options.warn('the update check failed', { error: error instanceof Error ? error.message : String(error) });
      set('Could not check for updates (offline?); trying again later.');
    });
  };
  if (options.plan.active) {
    options
      .load()
      .then((u) => {
        updater = u;
        u.autoDownload = true;
        u.autoInstallOnAppQuit = true;
        configure(u);
        u.on('update-available', (info) => set(`Downloading update ${info.version}…`));
        u.on('update-not-available', () => set('Offshift is up to date.'));
        u.on('update-downloaded', (info) => {
          ready = { version: info.version };
          set(`Update ${info.version} ready: it installs when you quit (or use "Restart to update" in the tray).`);
        });
        u.on('error', (error) => {
          options.warn('the updater failed', { error: error.message });
          set('The last update attempt failed; trying again later.');
        });
        check();
        timer = setInterval(check, options.intervalMs ?? UPDATE_CHECK_MS);
        timer.unref?.();
      })
      .catch((error: unknown) => set(`Updates are unavailable: ${error instanceof Error ? error.message : String(error)}`));
  }
  return {
    get status() {
      return status;
    },
    get ready() {
      return ready;
    },
    setChannel(next) {
      if (next === channel) return;
      channel = next;
      if (updater) {
        configure(updater);
        check();
      }
    },
    installNow() {
      updater?.quitAndInstall(false, true);
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
