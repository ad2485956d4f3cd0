/**
 * The Electron main process: lifecycle, the one window, the security checklist, where the agent
 * lives (hosted in a utilityProcess, or the system service when one runs), the tray, close to
 * tray, and the desktop settings. Thin: the decisions live in security/, agent/, tray/,
 * notifications/ and desktop/, the work in runtime/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, BrowserWindow, powerMonitor, protocol, safeStorage, screen, session, shell } from 'electron';
import { stderrLogger } from '../runtime/log.js';
import { readableLogStream } from '../runtime/log-lines.js';
import { serviceLocation } from '../runtime/service/config.js';
import { probeService, type ServiceProbe } from '../runtime/service/probe.js';
import { keystoreExists } from '../runtime/wallet/keystore-file.js';
import type { DesktopSettings } from '../runtime/desktop/schema.js';
import { AgentHost, type AgentHostStatus, type AgentLinkHost } from './agent/agent-host.js';
import { createAgentLog } from './agent/agent-log.js';
import { chooseAgentMode } from './agent/agent-mode.js';
import { createMainClient } from './agent/main-client.js';
import { decideRestart, type RestartPolicy } from './agent/restart-policy.js';
import { ServiceLink } from './agent/service-link.js';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol.js';
import { createDesktopController, type DesktopController } from './desktop/controller.js';
import { applyLoginItem, HIDDEN_ARG, loginItemEnabled, loginItemPlan } from './desktop/login-item.js';
import { PasswordMemory } from './desktop/password-memory.js';
import { startUpdater, updaterPlan, type AutoUpdaterLike, type Updater } from './desktop/updater.js';
import { loadWindowState, restoreBounds, saveWindowState } from './desktop/window-state.js';
import { createNotifier } from './notifications/notifier.js';
import { appPaths } from './paths.js';
import { hardenSession, hardenWebContents } from './security/harden.js';
import { mainWindowOptions } from './security/window-options.js';
import type { AgentLink } from './tray/menu.js';
import { createAppTray, type AppTray } from './tray/tray.js';

const RENDERER_RESTART_POLICY: RestartPolicy = { baseDelayMs: 250, maxDelayMs: 5000, windowMs: 60_000, maxCrashesInWindow: 3 };

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

/** How often main forwards the owner's input idle time to the agent. */
export const IDLE_POLL_MS = 500;

/** The agent's data folder: OFFSHIFT_HOME when set (tests, several profiles), else userData. */
export function agentHome(env: NodeJS.ProcessEnv, userData: string): string {
  return env.OFFSHIFT_HOME ? path.resolve(env.OFFSHIFT_HOME) : userData;
}

function toLink(status: AgentHostStatus): AgentLink {
  if (status.status === 'failed') return { status: 'failed', message: status.message };
  if (status.status === 'running') return { status: 'running' };
  return { status: status.status };
}

function readPackageType(): string | null {
  try {
    return fs.readFileSync(path.join(process.resourcesPath ?? '', 'package-type'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function runApp(mainModuleUrl: string, options: RunAppOptions = {}): RunningApp | null {
  const paths = appPaths(mainModuleUrl);
  const log = stderrLogger();
  // The agent's JSON lines go to agent.log as they are; on a terminal (`npm start`) they are echoed readable.
  const echoAgentOutput = process.stderr.isTTY && process.env.OFFSHIFT_LOG_FORMAT !== 'json' ? readableLogStream((text) => process.stderr.write(text)) : (chunk: Buffer | string) => process.stderr.write(chunk);
  const warn = (message: string, fields?: Record<string, unknown>) => log.warn(message, fields);

  // Before ready: every renderer sandboxed; app:// a standard, secure origin.
  app.enableSandbox();
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);

  if (!app.requestSingleInstanceLock()) {
    // Another Offshift is running: it gets a `second-instance` event and shows its window.
    app.quit();
    return null;
  }

  const startHidden = process.argv.includes(HIDDEN_ARG);
  const userData = app.getPath('userData');
  const home = agentHome(process.env, userData);
  const agentLog = createAgentLog(path.join(home, 'logs'), undefined, warn);
  const client = createMainClient();
  let mainWindow: BrowserWindow | null = null;
  let tray: AppTray | null = null;
  let controller: DesktopController | null = null;
  let updater: Updater | null = null;
  let quitting = false;
  let mode: 'embedded' | 'service' = 'embedded';

  const onStatus = (status: AgentHostStatus) => controller?.setLink(toLink(status));
  const onAgentState = (state: Parameters<NonNullable<ConstructorParameters<typeof AgentHost>[0]['onAgentState']>>[0]) => controller?.setAgentState(state);
  const embedded = () =>
    new AgentHost({
      onStatus,
      onAgentState,
      onRememberPassword: (password) => controller?.rememberPassword(password),
      warn,
      entry: paths.agentEntry,
      home,
      env: process.env,
      log,
      output: (chunk) => {
        if (!app.isPackaged) echoAgentOutput(chunk);
        agentLog.write(chunk);
      },
    });
  let host: AgentLinkHost = embedded();

  const createWindow = (page: string | null): BrowserWindow => {
    const saved = restoreBounds(loadWindowState(userData), screen.getAllDisplays().map((d) => d.workArea));
    const base = mainWindowOptions(paths.preload, { devTools: !app.isPackaged, icon: fs.existsSync(paths.icon) ? paths.icon : undefined });
    const window = new BrowserWindow({ ...base, ...saved.bounds });
    if (saved.maximized) window.maximize();
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
    window.on('close', (event) => {
      try {
        saveWindowState(userData, { ...window.getNormalBounds(), maximized: window.isMaximized() });
      } catch (error) {
        warn('could not save the window position', { error });
      }
      // Close to tray: the app keeps working; Quit (tray menu) quits.
      if (!quitting && tray && (controller?.settings.closeToTray ?? true)) {
        event.preventDefault();
        window.hide();
        controller?.notify({ type: 'close-to-tray' });
      }
    });
    window.on('closed', () => {
      host.disconnect(contents);
      if (mainWindow === window) mainWindow = null;
    });
    void window.loadURL(APP_ENTRY_URL + (page ? `#/${page}` : '')).catch((error: unknown) => log.error('could not load the dashboard', { error }));
    return window;
  };

  const showWindow = (page: string | null = null) => {
    if (!mainWindow) {
      mainWindow = createWindow(page);
      return;
    }
    // Main's own loadURL (not the page) picks the page; the page cannot navigate itself.
    if (page) void mainWindow.loadURL(`${APP_ENTRY_URL}#/${page}`).catch(() => {});
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };

  let lastLoginItem: boolean | null = null;
  const loginPlan = (openAtLogin: boolean) =>
    loginItemPlan(openAtLogin, { platform: process.platform, exec: process.execPath, args: app.isPackaged ? [] : [path.resolve(paths.dist, '..')], env: process.env, home: os.homedir() });
  const applySettings = (settings: DesktopSettings) => {
    updater?.setChannel(settings.updateChannel);
    if (lastLoginItem === settings.openAtLogin) return;
    const plan = loginPlan(settings.openAtLogin);
    const current = loginItemEnabled(plan, () => app.getLoginItemSettings());
    // Only touch the system when it differs (never write an autostart entry nobody asked for).
    if (current !== settings.openAtLogin) {
      const problem = applyLoginItem(plan, app);
      if (problem) warn('open at login', { problem });
    }
    lastLoginItem = settings.openAtLogin;
  };

  app.on('second-instance', () => showWindow());
  // Every webContents, ours or any other that might appear: no navigation, no popups, no webview.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => shell.openExternal(url), warn));
  app.on('window-all-closed', () => {
    // With a tray the app lives on there; without one (some Linux desktops) closing quits.
    if (!tray && process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => showWindow());

  // Quit only once the agent has stopped cleanly (its jobs first; host.stop() also cancels a
  // pending restart). Attached to the service, quitting only detaches: the service keeps working.
  let agentStopped = false;
  let stopping: Promise<void> | null = null;
  app.on('before-quit', (event) => {
    quitting = true;
    if (agentStopped) return;
    controller?.stop();
    updater?.stop();
    if (!host.running) {
      void host.stop();
      agentStopped = true;
      void agentLog.close();
      return;
    }
    event.preventDefault();
    stopping ??= host
      .stop()
      .then(() => agentLog.close())
      .finally(() => {
        agentStopped = true;
        app.quit();
      });
  });

  const ready = app.whenReady().then(async () => {
    hardenSession(session.defaultSession, warn);
    protocol.handle(APP_SCHEME, createAppProtocolHandler(paths.rendererDir));
    // Where the agent lives: the system service when it runs and we may attach, else our own.
    const probe = await (options.probe ?? (() => probeService(serviceLocation(process.env))))().catch((): ServiceProbe => ({ state: 'absent' }));
    const choice = chooseAgentMode(process.env, probe);
    if (choice.mode === 'service') {
      mode = 'service';
      host = new ServiceLink({ port: choice.port, token: choice.token, log, onStatus, onAgentState });
      log.info(choice.message);
    } else if (choice.note) {
      warn(choice.note);
    }
    const passwords = mode === 'embedded' ? new PasswordMemory(userData, safeStorage) : null;
    const notifier = createNotifier({ settings: { paused: true, resumed: true, jobFinished: true, vouchersRedeemed: true, failures: true, gpuOutOfService: true, walletLocked: true }, openPage: (page) => showWindow(page), icon: fs.existsSync(paths.icon) ? paths.icon : undefined });
    try {
      tray = createAppTray(paths.trayDir, (action) => controller?.action(action));
    } catch (error) {
      // Some Linux desktops have no tray; the window still shows the state.
      warn('no system tray', { error });
    }
    updater = startUpdater({
      plan: updaterPlan({ isPackaged: app.isPackaged, platform: process.platform, packageType: readPackageType(), appImage: process.env.APPIMAGE }),
      channel: 'stable',
      load: async () => (await import('electron-updater')).default.autoUpdater as unknown as AutoUpdaterLike,
      onChange: () => controller?.reportHost(),
      warn,
    });
    controller = createDesktopController({
      client,
      mode,
      tray,
      notifier,
      passwords,
      updater: () => updater,
      walletExists: () => mode === 'service' || keystoreExists(home),
      openPage: (page) => showWindow(page),
      quit: () => app.quit(),
      applySettings,
      loginItemEnabled: () => loginItemEnabled(loginPlan(lastLoginItem ?? false), () => app.getLoginItemSettings()),
      warn,
    });
    host.start();
    host.connect(client.target);
    // The agent's utilityProcess has no powerMonitor: main reads the idle time twice a second
    // and forwards it, so a return to the keyboard reaches the availability loop at once.
    if (mode === 'embedded') setInterval(() => host.sendIdle(powerMonitor.getSystemIdleTime()), IDLE_POLL_MS).unref();
    // Started at login: stay in the tray (unless there is none to stay in).
    if (!startHidden || !tray) showWindow();
  });

  return {
    get host() {
      return host;
    },
    get mode() {
      return mode;
    },
    window: () => mainWindow,
    ready,
  };
}
