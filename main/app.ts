/**
 * The Electron main process: lifecycle, the one window, the security checklist, where the agent
 * lives (hosted in a utilityProcess, or the system service when one runs), the tray, close to
 * tray, and the desktop settings. Thin: the decisions live in security/, agent/, tray/,
 * notifications/ and desktop/, the work in runtime/.
 */
import { app, protocol, type BrowserWindow } from 'electron';
import { stderrLogger } from '../runtime/log.js';
import type { ServiceProbe } from '../runtime/service/probe.js';
import type { AgentLinkHost } from './agent/agent-host.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES } from './app-protocol.js';
import { DesktopApp } from './desktop-app.js';
import { appPaths } from './paths.js';

export { agentHome, IDLE_POLL_MS } from './desktop-app.js';

export interface RunningApp {
  /** Where the agent lives: the hosted one, or the link to the system service (once chosen). */
  readonly host: AgentLinkHost;
  readonly mode: 'embedded' | 'service';
  window(): BrowserWindow | null;
  /** Resolves once the agent's home is chosen and started. */
  ready: Promise<void>;
}

export interface RunAppOptions {
  /** Is the system service running here? Default: read its token and ask it (runtime/service/probe.ts). */
  probe?: () => Promise<ServiceProbe>;
}

export function runApp(mainModuleUrl: string, options: RunAppOptions = {}): RunningApp | null {
  const paths = appPaths(mainModuleUrl);
  const log = stderrLogger();
  // Before ready: every renderer sandboxed; app:// a standard, secure origin.
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);
  if (!app.requestSingleInstanceLock()) {
    // Another Offshift is running: it gets a `second-instance` event and shows its window.
    app.quit();
    return null;
  }
  const desktop = new DesktopApp(paths, log);
  desktop.listen();
  const ready = app.whenReady().then(() => desktop.start(options.probe));
  return {
    get host() {
      return desktop.host;
    },
    get mode() {
      return desktop.mode;
    },
    window: () => desktop.mainWindow,
    ready,
  };
}
