/**
 * "Open at login", hidden in the tray. Windows and macOS: Electron's login item settings.
 * Linux: an XDG autostart entry (~/.config/autostart/offshift.desktop), which every desktop
 * that follows the XDG spec (GNOME, KDE, Xfce, …) starts at login. The plan is pure; apply()
 * does the I/O.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The argument that tells the app it was started at login: stay in the tray, no window. */
export const HIDDEN_ARG = '--hidden';

export type LoginItemPlan =
  | { kind: 'electron'; settings: { openAtLogin: boolean; openAsHidden: boolean; args: string[] } }
  | { kind: 'xdg'; file: string; content: string | null }
  | { kind: 'unsupported'; reason: string };

export interface LoginItemContext {
  platform: NodeJS.Platform;
  /** The executable to start: process.execPath, or $APPIMAGE for an AppImage (its path survives updates). */
  exec: string;
  /** Extra arguments before --hidden (the app folder when unpackaged). */
  args: string[];
  env: NodeJS.ProcessEnv;
  home: string;
}

/** A desktop entry's Exec= value: each argument quoted per the XDG spec. */
function desktopExec(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_/.=+,:-]+$/.test(a) ? a : `"${a.replace(/(["`$\\])/g, '\\$1')}"`)).join(' ').replace(/%/g, '%%');
}

export function loginItemPlan(openAtLogin: boolean, ctx: LoginItemContext): LoginItemPlan {
  if (ctx.platform === 'win32' || ctx.platform === 'darwin') {
    return { kind: 'electron', settings: { openAtLogin, openAsHidden: true, args: [...ctx.args, HIDDEN_ARG] } };
  }
  if (ctx.platform !== 'linux') return { kind: 'unsupported', reason: `opening at login is not supported on ${ctx.platform}` };
  const config = ctx.env.XDG_CONFIG_HOME && path.isAbsolute(ctx.env.XDG_CONFIG_HOME) ? ctx.env.XDG_CONFIG_HOME : path.join(ctx.home, '.config');
  const file = path.join(config, 'autostart', 'offshift.desktop');
  if (!openAtLogin) return { kind: 'xdg', file, content: null };
  const exec = ctx.env.APPIMAGE && path.isAbsolute(ctx.env.APPIMAGE) ? ctx.env.APPIMAGE : ctx.exec;
  const content = [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Offshift',
    'Comment=Lease your idle GPUs (starts in the tray)',
    `Exec=${desktopExec([exec, ...ctx.args, HIDDEN_ARG])}`,
    'Icon=offshift',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    'StartupWMClass=Offshift',
    '',
  ].join('\n');
  return { kind: 'xdg', file, content };
}

export interface LoginItemElectron {
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden: boolean; args: string[] }): void;
}

/** Applies a plan; returns an error message to show, or null. */
export function applyLoginItem(plan: LoginItemPlan, app: LoginItemElectron): string | null {
  try {
    if (plan.kind === 'unsupported') return plan.reason;
    if (plan.kind === 'electron') {
      app.setLoginItemSettings(plan.settings);
      return null;
    }
    if (plan.content === null) fs.rmSync(plan.file, { force: true });
    else {
      fs.mkdirSync(path.dirname(plan.file), { recursive: true });
      fs.writeFileSync(plan.file, plan.content, { mode: 0o644 });
    }
    return null;
  } catch (error) {
    return `could not change the login item: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Whether the app is set to open at login, as the system holds it (null where unknown). */
export function loginItemEnabled(plan: LoginItemPlan, getElectron: () => { openAtLogin: boolean }): boolean | null {
  if (plan.kind === 'electron') return getElectron().openAtLogin;
  if (plan.kind === 'xdg') return fs.existsSync(plan.file);
  return null;
}
