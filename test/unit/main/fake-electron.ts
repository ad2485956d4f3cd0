/**
 * A stand-in for the `electron` module (this machine has no Electron binary): just enough of
 * app, BrowserWindow, protocol, session, shell, utilityProcess, MessageChannelMain,
 * contextBridge and ipcRenderer for main/ and preload/ to run, recording what they were asked.
 * Tests use it with `vi.mock('electron', () => import('./fake-electron.js'))`.
 */
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

type Listener = (...args: unknown[]) => unknown;

export class FakeWebContents extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  destroyed = false;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly postMessage = vi.fn((_channel: string, _message: unknown, _transfer?: unknown[]) => undefined);
  readonly send = vi.fn((_channel: string, ..._args: unknown[]) => undefined);
  readonly reload = vi.fn();
  url = 'app://offshift/index.html';
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  /** Calls the first listener of `event` the way Electron would, with a preventable event. */
  fire(event: string, url: string): { prevented: boolean } {
    const e = { prevented: false, preventDefault() { this.prevented = true; } };
    for (const l of this.listeners(event) as Listener[]) l(e, url);
    return { prevented: e.prevented };
  }
}

export class BrowserWindow extends EventEmitter {
  static instances: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loadURL = vi.fn(async (_url: string) => undefined);
  readonly show = vi.fn();
  readonly focus = vi.fn();
  readonly restore = vi.fn();
  readonly hide = vi.fn();
  readonly maximize = vi.fn();
  visible = true;
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.instances.push(this);
  }
  isMinimized(): boolean {
    return false;
  }
  isMaximized(): boolean {
    return false;
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: 1000, height: 700 };
  }
  /** Calls the 'close' listeners the way Electron would, with a preventable event. */
  tryClose(): { prevented: boolean } {
    const e = { prevented: false, preventDefault() { this.prevented = true; } };
    this.emit('close', e);
    if (!e.prevented) this.emit('closed');
    return { prevented: e.prevented };
  }
  isDestroyed(): boolean {
    return false;
  }
}

export class FakeMessagePortMain extends EventEmitter {
  readonly postMessage = vi.fn();
  readonly start = vi.fn();
  readonly close = vi.fn();
}

export class MessageChannelMain {
  static created: MessageChannelMain[] = [];
  readonly port1 = new FakeMessagePortMain();
  readonly port2 = new FakeMessagePortMain();
  constructor() {
    MessageChannelMain.created.push(this);
  }
}

export class FakeUtilityProcess extends EventEmitter {
  pid: number | undefined = 4242;
  stdout = null;
  stderr = null;
  readonly postMessage = vi.fn((_message: unknown, _transfer?: unknown[]) => undefined);
  readonly kill = vi.fn(() => {
    queueMicrotask(() => this.emit('exit', 15));
    return true;
  });
  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: Record<string, unknown>,
  ) {
    super();
  }
}

export const utilityProcess = {
  children: [] as FakeUtilityProcess[],
  fork: vi.fn((modulePath: string, args: string[] = [], options: Record<string, unknown> = {}) => {
    const child = new FakeUtilityProcess(modulePath, args, options);
    utilityProcess.children.push(child);
    return child;
  }),
};

function makeSession() {
  return {
    setPermissionRequestHandler: vi.fn(),
    setPermissionCheckHandler: vi.fn(),
    setDevicePermissionHandler: vi.fn(),
    webRequest: { onBeforeRequest: vi.fn(), onHeadersReceived: vi.fn() },
  };
}

export const session = { defaultSession: makeSession() };

export const protocol = {
  registerSchemesAsPrivileged: vi.fn(),
  handle: vi.fn(),
};

export const shell = { openExternal: vi.fn(async (_url: string) => undefined) };
export const powerMonitor = { getSystemIdleTime: vi.fn(() => 0) };
export const screen = { getAllDisplays: vi.fn(() => [{ workArea: { x: 0, y: 0, width: 1920, height: 1040 } }]) };
export const safeStorage = {
  isEncryptionAvailable: vi.fn(() => true),
  getSelectedStorageBackend: vi.fn(() => 'gnome_libsecret'),
  encryptString: vi.fn((text: string) => Buffer.from(`enc:${text}`)),
  decryptString: vi.fn((data: Buffer) => {
    const text = data.toString();
    if (!text.startsWith('enc:')) throw new Error('Error while decrypting the ciphertext');
    return text.slice(4);
  }),
};

export class Notification extends EventEmitter {
  static shown: Notification[] = [];
  static isSupported = vi.fn(() => true);
  constructor(readonly options: { title: string; body: string }) {
    super();
  }
  show(): void {
    Notification.shown.push(this);
  }
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  readonly enableSandbox = vi.fn();
  readonly requestSingleInstanceLock = vi.fn(() => true);
  readonly quit = vi.fn();
  readonly getPath = vi.fn((_name: string) => '/tmp/offshift-fake-userdata');
  readonly whenReady = vi.fn(() => Promise.resolve());
  readonly setLoginItemSettings = vi.fn();
  readonly getLoginItemSettings = vi.fn(() => ({ openAtLogin: false }));
}
export const app = new FakeApp();

export class Tray extends EventEmitter {
  static instances: Tray[] = [];
  readonly setImage = vi.fn();
  readonly setToolTip = vi.fn();
  readonly setContextMenu = vi.fn();
  readonly destroy = vi.fn();
  constructor(readonly image: unknown) {
    super();
    Tray.instances.push(this);
  }
}

export const Menu = { buildFromTemplate: vi.fn((template: Array<Record<string, unknown>>) => ({ template })) };
export const nativeImage = { createFromPath: vi.fn((file: string) => ({ file })) };

export const contextBridge = { exposeInMainWorld: vi.fn() };
export const ipcRenderer = new EventEmitter();

/** Back to a fresh state between tests. */
export function resetFakeElectron(): void {
  BrowserWindow.instances = [];
  Tray.instances = [];
  Notification.shown = [];
  MessageChannelMain.created = [];
  utilityProcess.children = [];
  utilityProcess.fork.mockClear();
  Object.assign(session.defaultSession, makeSession());
  protocol.registerSchemesAsPrivileged.mockClear();
  protocol.handle.mockClear();
  shell.openExternal.mockClear();
  app.removeAllListeners();
  app.enableSandbox.mockClear();
  app.requestSingleInstanceLock.mockReset().mockReturnValue(true);
  app.quit.mockClear();
  app.whenReady.mockClear();
  app.setLoginItemSettings.mockClear();
  contextBridge.exposeInMainWorld.mockClear();
  ipcRenderer.removeAllListeners();
}

export default { app, BrowserWindow, MessageChannelMain, utilityProcess, session, protocol, shell, powerMonitor, screen, safeStorage, Notification, Tray, Menu, nativeImage, contextBridge, ipcRenderer };
