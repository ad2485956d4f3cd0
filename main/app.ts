/**
 * The Electron main process: lifecycle, the one window, the security checklist, and the agent
 * in its utilityProcess. Thin: the decisions live in security/ and agent/, the work in runtime/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, powerMonitor, protocol, session, shell } from 'electron';
import { createLogger } from '../runtime/log.js';
import { AgentHost, type AgentHostStatus } from './agent/agent-host.js';
import { createAgentLog } from './agent/agent-log.js';
import { decideRestart, type RestartPolicy } from './agent/restart-policy.js';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol.js';
import { appPaths } from './paths.js';
import { hardenSession, hardenWebContents } from './security/harden.js';
import { mainWindowOptions } from './security/window-options.js';
import { createAppTray, type AppTray } from './tray.js';
import type { AgentState } from '../runtime/agent/schema.js';

const RENDERER_RESTART_POLICY: RestartPolicy = { baseDelayMs: 250, maxDelayMs: 5000, windowMs: 60_000, maxCrashesInWindow: 3 };

export interface RunningApp {
  host: AgentHost;
  window(): BrowserWindow | null;
}

/** The agent's data folder: OFFSHIFT_HOME when set (tests, several profiles), else userData. */
/** How often main forwards the owner's input idle time to the agent. */
export const IDLE_POLL_MS = 500;

export function agentHome(env: NodeJS.ProcessEnv, userData: string): string {
  return env.OFFSHIFT_HOME ? path.resolve(env.OFFSHIFT_HOME) : userData;
}

export function runApp(mainModuleUrl: string): RunningApp | null {
  const paths = appPaths(mainModuleUrl);
  const log = createLogger((line) => process.stderr.write(line), process.env.OFFSHIFT_LOG_LEVEL === 'debug' ? 'debug' : 'info');
  const warn = (message: string, fields?: Record<string, unknown>) => log.warn(message, fields);

  // Before ready: every renderer sandboxed; app:// a standard, secure origin.
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);

  if (!app.requestSingleInstanceLock()) {
    // Another Offshift is running: it gets a `second-instance` event and shows its window.
    app.quit();
    return null;
  }

  let mainWindow: BrowserWindow | null = null;
  const home = agentHome(process.env, app.getPath('userData'));
  const agentLog = createAgentLog(path.join(home, 'logs'));
  let tray: AppTray | null = null;
  let hostStatus: AgentHostStatus = { status: 'starting' };
  let agentState: AgentState | null = null;
  const host = new AgentHost({
    onStatus: (status) => {
      hostStatus = status;
      if (status.status !== 'running') agentState = null;
      tray?.update(hostStatus, agentState);
    },
    onAgentState: (state) => {
      agentState = state;
      tray?.update(hostStatus, agentState);
    },
    entry: paths.agentEntry,
    home,
    env: process.env,
    log,
    output: (chunk) => {
      if (!app.isPackaged) process.stderr.write(chunk);
      try {
        agentLog.write(chunk);
      } catch (error) {
        warn('could not write the agent log', { error });
      }
    },
  });

  const createWindow = (): BrowserWindow => {
    const window = new BrowserWindow(mainWindowOptions(paths.preload, { devTools: !app.isPackaged, icon: fs.existsSync(paths.icon) ? paths.icon : undefined }));
    const contents = window.webContents;
    // Each load (and reload) of the dashboard gets a fresh port to the agent.
    contents.on('did-finish-load', () => host.connect(contents));
    window.once('ready-to-show', () => window.show());
    // A crashed or killed renderer: reload the dashboard (it gets a new port on load), with the
    // same backoff as the agent, and stop trying if it keeps crashing.
    const rendererCrashes: number[] = [];
    contents.on('render-process-gone', (_event, details) => {
      if (details.reason === 'clean-exit') return;
      const now = Date.now();
      rendererCrashes.push(now);
      const decision = decideRestart(rendererCrashes, now, RENDERER_RESTART_POLICY);
      log.error('the window crashed', { reason: details.reason, exitCode: details.exitCode, decision: decision.action });
      if (decision.action === 'restart') setTimeout(() => !window.isDestroyed() && contents.reload(), decision.delayMs);
    });
    window.on('closed', () => {
      host.disconnect(contents);
      if (mainWindow === window) mainWindow = null;
    });
    void window.loadURL(APP_ENTRY_URL).catch((error: unknown) => log.error('could not load the dashboard', { error }));
    return window;
  };

  const showWindow = () => {
    if (!mainWindow) {
      mainWindow = createWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };

  app.on('second-instance', showWindow);
  // Every webContents, ours or any other that might appear: no navigation, no popups, no webview.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => shell.openExternal(url), warn));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', showWindow);

  // Quit only once the agent has stopped cleanly (host.stop() also cancels a pending restart).
  let agentStopped = false;
  let stopping: Promise<void> | null = null;
  app.on('before-quit', (event) => {
    if (agentStopped) return;
    if (!host.running) {
      void host.stop();
      agentStopped = true;
      agentLog.close();
      return;
    }
    event.preventDefault();
    stopping ??= host.stop().finally(() => {
      agentStopped = true;
      agentLog.close();
      app.quit();
    });
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession, warn);
    protocol.handle(APP_SCHEME, createAppProtocolHandler(paths.rendererDir));
    try {
      tray = createAppTray(paths.trayDir, { open: showWindow, quit: () => app.quit() });
      tray.update(hostStatus, agentState);
    } catch (error) {
      // Some Linux desktops have no tray; the window still shows the state.
      warn('no system tray', { error });
    }
    host.start();
    // The agent's utilityProcess has no powerMonitor: main reads the idle time twice a second
    // and forwards it, so a return to the keyboard reaches the availability loop at once.
    setInterval(() => host.sendIdle(powerMonitor.getSystemIdleTime()), IDLE_POLL_MS).unref();
    showWindow();
  });

  return { host, window: () => mainWindow };
}
