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
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.instances.push(this);
  }
  isMinimized(): boolean {
    return false;
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

class FakeApp extends EventEmitter {
  isPackaged = false;
  readonly enableSandbox = vi.fn();
  readonly requestSingleInstanceLock = vi.fn(() => true);
  readonly quit = vi.fn();
  readonly getPath = vi.fn((_name: string) => '/tmp/offshift-fake-userdata');
  readonly whenReady = vi.fn(() => Promise.resolve());
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
  contextBridge.exposeInMainWorld.mockClear();
  ipcRenderer.removeAllListeners();
}

export default { app, BrowserWindow, MessageChannelMain, utilityProcess, session, protocol, shell, powerMonitor, Tray, Menu, nativeImage, contextBridge, ipcRenderer };
