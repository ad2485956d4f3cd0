/**
 * The desktop app once it holds the single-instance lock: the agent's host (hosted, or the
 * system service), the window, the tray and the controller around them, the desktop settings
 * applied, and a quit that waits for the agent to stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, BrowserWindow, powerMonitor, protocol, safeStorage, session, shell } from 'electron';
import { readableLogStream } from '../runtime/log-lines.js';
import type { Logger } from '../runtime/log.js';
import type { DesktopSettings } from '../runtime/desktop/schema.js';
import { serviceLocation } from '../runtime/service/config.js';
import { probeService, type ServiceProbe } from '../runtime/service/probe.js';
import { keystoreExists } from '../runtime/wallet/keystore-file.js';
import { AgentHost, type AgentHostStatus, type AgentLinkHost } from './agent/agent-host.js';
import { createAgentLog } from './agent/agent-log.js';
import { chooseAgentMode } from './agent/agent-mode.js';
import { createMainClient } from './agent/main-client.js';
import { ServiceLink } from './agent/service-link.js';
import { APP_ENTRY_URL, APP_SCHEME, createAppProtocolHandler } from './app-protocol.js';
import { createDesktopController, type DesktopController } from './desktop/controller.js';
import { applyLoginItem, HIDDEN_ARG, loginItemEnabled, loginItemPlan, type LoginItemPlan } from './desktop/login-item.js';
import { PasswordMemory } from './desktop/password-memory.js';
import { startUpdater, updaterPlan, type AutoUpdaterLike, type Updater } from './desktop/updater.js';
import { createMainWindow } from './main-window.js';
import { createNotifier } from './notifications/notifier.js';
import type { AppPaths } from './paths.js';
import { hardenSession, hardenWebContents } from './security/harden.js';
import type { AgentLink } from './tray/menu.js';
import { createAppTray, type AppTray } from './tray/tray.js';

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

type AgentStateEvent = Parameters<NonNullable<ConstructorParameters<typeof AgentHost>[0]['onAgentState']>>[0];

export class DesktopApp {
  readonly userData = app.getPath('userData');
  readonly home = agentHome(process.env, this.userData);
  host: AgentLinkHost;
  mode: 'embedded' | 'service' = 'embedded';
  mainWindow: BrowserWindow | null = null;
  private readonly warn = (message: string, fields?: Record<string, unknown>) => this.log.warn(message, fields);
  private readonly agentLog = createAgentLog(path.join(this.home, 'logs'), undefined, this.warn);
  private readonly client = createMainClient();
  private readonly startHidden = process.argv.includes(HIDDEN_ARG);
  private tray: AppTray | null = null;
  private controller: DesktopController | null = null;
  private updater: Updater | null = null;
  private quitting = false;
  private lastLoginItem: boolean | null = null;
  private agentStopped = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly paths: AppPaths,
    private readonly log: Logger,
  ) {
    this.host = this.embeddedHost();
  }

  /** The app's events: a second start, new web contents, windows closing, quitting. */
  listen(): void {
    app.on('second-instance', () => this.showWindow());
    // Every webContents, ours or any other that might appear: no navigation, no popups, no webview.
    app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => shell.openExternal(url), this.warn));
    app.on('window-all-closed', () => {
      // With a tray the app lives on there; without one (some Linux desktops) closing quits.
      if (!this.tray && process.platform !== 'darwin') app.quit();
    });
    app.on('activate', () => this.showWindow());
    app.on('before-quit', (event) => this.beforeQuit(event));
  }

  /** Once Electron is ready: the protocol, where the agent lives, the tray and controller, the window. */
  async start(probe: () => Promise<ServiceProbe> = () => probeService(serviceLocation(process.env))): Promise<void> {
    hardenSession(session.defaultSession, this.warn);
    protocol.handle(APP_SCHEME, createAppProtocolHandler(this.paths.rendererDir));
    await this.chooseHost(probe);
    this.startTrayAndController();
    this.host.start();
    this.host.connect(this.client.target);
    // The agent's utilityProcess has no powerMonitor: main reads the idle time twice a second
    // and forwards it, so a return to the keyboard reaches the availability loop at once.
    if (this.mode === 'embedded') setInterval(() => this.host.sendIdle(powerMonitor.getSystemIdleTime()), IDLE_POLL_MS).unref();
    // Started at login: stay in the tray (unless there is none to stay in).
    if (!this.startHidden || !this.tray) this.showWindow();
  }

  showWindow(page: string | null = null): void {
    if (!this.mainWindow) {
      this.mainWindow = this.createWindow(page);
      return;
    }
    // Main's own loadURL (not the page) picks the page; the page cannot navigate itself.
    if (page) void this.mainWindow.loadURL(`${APP_ENTRY_URL}#/${page}`).catch(() => {});
    if (this.mainWindow.isMinimized()) this.mainWindow.restore();
    this.mainWindow.show();
    this.mainWindow.focus();
  }

  private readonly onStatus = (status: AgentHostStatus) => this.controller?.setLink(toLink(status));
  private readonly onAgentState = (state: AgentStateEvent) => this.controller?.setAgentState(state);

  private embeddedHost(): AgentHost {
    // The agent's JSON lines go to agent.log as they are; on a terminal (`npm start`) they are echoed readable.
    const echo = process.stderr.isTTY && process.env.OFFSHIFT_LOG_FORMAT !== 'json' ? readableLogStream((text) => process.stderr.write(text)) : (chunk: Buffer | string) => process.stderr.write(chunk);
    return new AgentHost({
      onStatus: this.onStatus,
      onAgentState: this.onAgentState,
      onRememberPassword: (password) => this.controller?.rememberPassword(password),
      warn: this.warn,
      entry: this.paths.agentEntry,
      home: this.home,
      env: process.env,
      log: this.log,
      output: (chunk) => {
        if (!app.isPackaged) echo(chunk);
        this.agentLog.write(chunk);
      },
    });
  }

  /** Where the agent lives: the system service when it runs and we may attach, else our own. */
  private async chooseHost(probe: () => Promise<ServiceProbe>): Promise<void> {
    const found = await probe().catch((): ServiceProbe => ({ state: 'absent' }));
    const choice = chooseAgentMode(process.env, found);
    if (choice.mode === 'service') {
      this.mode = 'service';
      this.host = new ServiceLink({ port: choice.port, token: choice.token, log: this.log, onStatus: this.onStatus, onAgentState: this.onAgentState });
      this.log.info(choice.message);
    } else if (choice.note) {
      this.warn(choice.note);
    }
  }

  private startTrayAndController(): void {
    const icon = fs.existsSync(this.paths.icon) ? this.paths.icon : undefined;
    const notifier = createNotifier({ settings: { paused: true, resumed: true, jobFinished: true, vouchersRedeemed: true, failures: true, gpuOutOfService: true, walletLocked: true }, openPage: (page) => this.showWindow(page), icon });
    try {
      this.tray = createAppTray(this.paths.trayDir, (action) => this.controller?.action(action));
    } catch (error) {
      // Some Linux desktops have no tray; the window still shows the state.
      this.warn('no system tray', { error });
    }
    this.updater = startUpdater({
      plan: updaterPlan({ isPackaged: app.isPackaged, platform: process.platform, packageType: readPackageType(), appImage: process.env.APPIMAGE }),
      channel: 'stable',
      load: async () => (await import('electron-updater')).default.autoUpdater as unknown as AutoUpdaterLike,
      onChange: () => this.controller?.reportHost(),
      warn: this.warn,
    });
    this.controller = createDesktopController({
      client: this.client,
      mode: this.mode,
      tray: this.tray,
      notifier,
      passwords: this.mode === 'embedded' ? new PasswordMemory(this.userData, safeStorage) : null,
      updater: () => this.updater,
      walletExists: () => this.mode === 'service' || keystoreExists(this.home),
      openPage: (page) => this.showWindow(page),
      quit: () => app.quit(),
      applySettings: (settings) => this.applySettings(settings),
      loginItemEnabled: () => loginItemEnabled(this.loginPlan(this.lastLoginItem ?? false), () => app.getLoginItemSettings()),
      warn: this.warn,
    });
  }

  private createWindow(page: string | null): BrowserWindow {
    return createMainWindow(
      {
        paths: this.paths,
        userData: this.userData,
        devTools: !app.isPackaged,
        log: this.log,
        warn: this.warn,
        host: () => this.host,
        // Close to tray: the app keeps working; Quit (tray menu) quits.
        hideOnClose: () => !this.quitting && this.tray !== null && (this.controller?.settings.closeToTray ?? true),
        onHiddenToTray: () => this.controller?.notify({ type: 'close-to-tray' }),
        onClosed: (window) => {
          if (this.mainWindow === window) this.mainWindow = null;
        },
      },
      page,
    );
  }

  private loginPlan(openAtLogin: boolean): LoginItemPlan {
    return loginItemPlan(openAtLogin, { platform: process.platform, exec: process.execPath, args: app.isPackaged ? [] : [path.resolve(this.paths.dist, '..')], env: process.env, home: os.homedir() });
  }

  private applySettings(settings: DesktopSettings): void {
    this.updater?.setChannel(settings.updateChannel);
    if (this.lastLoginItem === settings.openAtLogin) return;
    const plan = this.loginPlan(settings.openAtLogin);
    const current = loginItemEnabled(plan, () => app.getLoginItemSettings());
    // Only touch the system when it differs (never write an autostart entry nobody asked for).
    if (current !== settings.openAtLogin) {
      const problem = applyLoginItem(plan, app);
      if (problem) this.warn('open at login', { problem });
    }
    this.lastLoginItem = settings.openAtLogin;
  }

  /**
   * Quit only once the agent has stopped cleanly (its jobs first; host.stop() also cancels a
   * pending restart). Attached to the service, quitting only detaches: the service keeps working.
   */
  private beforeQuit(event: { preventDefault(): void }): void {
    this.quitting = true;
    if (this.agentStopped) return;
    this.controller?.stop();
    this.updater?.stop();
    if (!this.host.running) {
      void this.host.stop();
      this.agentStopped = true;
      void this.agentLog.close();
      return;
    }
    event.preventDefault();
    this.stopping ??= this.host
      .stop()
      .then(() => this.agentLog.close())
      .finally(() => {
        this.agentStopped = true;
        app.quit();
      });
  }
}
