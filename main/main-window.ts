/**
 * The one dashboard window: made with the hardened options at its remembered place, connected to
 * the agent on each load, reloaded after a renderer crash (with the agent's backoff), and hidden
 * to the tray on close when that is the setting.
 */
import fs from 'node:fs';
import { BrowserWindow, screen, type WebContents } from 'electron';
import type { Logger } from '../runtime/log.js';
import type { AgentLinkHost } from './agent/agent-host.js';
import { decideRestart, type RestartPolicy } from './agent/restart-policy.js';
import { APP_ENTRY_URL } from './app-protocol.js';
import { loadWindowState, restoreBounds, saveWindowState } from './desktop/window-state.js';
import type { AppPaths } from './paths.js';
import { mainWindowOptions } from './security/window-options.js';

const RENDERER_RESTART_POLICY: RestartPolicy = { baseDelayMs: 250, maxDelayMs: 5000, windowMs: 60_000, maxCrashesInWindow: 3 };

export interface MainWindowDeps {
  paths: AppPaths;
  userData: string;
  devTools: boolean;
  log: Logger;
  warn: (message: string, fields?: Record<string, unknown>) => void;
  host: () => AgentLinkHost;
  /** Whether closing hides the window to the tray (the app keeps working) rather than closing it. */
  hideOnClose: () => boolean;
  onHiddenToTray: () => void;
  onClosed: (window: BrowserWindow) => void;
}

export function createMainWindow(deps: MainWindowDeps, page: string | null): BrowserWindow {
  const saved = restoreBounds(loadWindowState(deps.userData), screen.getAllDisplays().map((d) => d.workArea));
  const base = mainWindowOptions(deps.paths.preload, { devTools: deps.devTools, icon: fs.existsSync(deps.paths.icon) ? deps.paths.icon : undefined });
  const window = new BrowserWindow({ ...base, ...saved.bounds });
  if (saved.maximized) window.maximize();
  const contents = window.webContents;
  // Each load (and reload) of the dashboard gets a fresh port to the agent.
  contents.on('did-finish-load', () => deps.host().connect(contents));
  window.once('ready-to-show', () => window.show());
  reloadAfterCrash(window, contents, deps.log);
  window.on('close', (event) => {
    try {
      saveWindowState(deps.userData, { ...window.getNormalBounds(), maximized: window.isMaximized() });
    } catch (error) {
      deps.warn('could not save the window position', { error });
    }
    if (deps.hideOnClose()) {
      event.preventDefault();
      window.hide();
      deps.onHiddenToTray();
    }
  });
  window.on('closed', () => {
    deps.host().disconnect(contents);
    deps.onClosed(window);
  });
  void window.loadURL(APP_ENTRY_URL + (page ? `#/${page}` : '')).catch((error: unknown) => deps.log.error('could not load the dashboard', { error }));
  return window;
}

/**
 * A crashed or killed renderer: reload the dashboard (it gets a new port on load), with the
 * same backoff as the agent, and stop trying if it keeps crashing.
 */
function reloadAfterCrash(window: BrowserWindow, contents: WebContents, log: Logger): void {
  const rendererCrashes: number[] = [];
  contents.on('render-process-gone', (_event, details) => {
    if (details.reason === 'clean-exit') return;
    const now = Date.now();
    rendererCrashes.push(now);
    const decision = decideRestart(rendererCrashes, now, RENDERER_RESTART_POLICY);
    log.error('the window crashed', { reason: details.reason, exitCode: details.exitCode, decision: decision.action });
    if (decision.action === 'restart') setTimeout(() => !window.isDestroyed() && contents.reload(), decision.delayMs);
  });
}
