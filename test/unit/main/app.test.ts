import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron.js'));
// Never attach to a system service that may run on the developer's machine.
process.env.OFFSHIFT_AGENT_MODE = 'embedded';

const fake = await import('./fake-electron.js');
const { runApp } = await import('../../../main/app.js');
const { CHANNELS } = await import('../../../preload/channels.js');

const MAIN_URL = 'file:///opt/offshift/dist/main/main.js';
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

type Handler = (...args: unknown[]) => unknown;
const handlerOf = (mock: { mock: { calls: unknown[][] } }) => mock.mock.calls[0]![0] as Handler;

describe('the Electron main process (electron mocked)', () => {
  beforeEach(() => {
    fake.resetFakeElectron();
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('sandboxes every renderer and registers app:// as privileged before the app is ready', async () => {
    runApp(MAIN_URL);
    expect(fake.app.enableSandbox).toHaveBeenCalledOnce();
    expect(fake.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true, bypassCSP: false }) },
    ]);
    // The handler comes only once the app is ready.
    expect(fake.protocol.handle).not.toHaveBeenCalled();
    await tick();
    expect(fake.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
  });

  it('quits at once when another instance holds the single-instance lock', () => {
    fake.app.requestSingleInstanceLock.mockReturnValue(false);
    expect(runApp(MAIN_URL)).toBeNull();
    expect(fake.app.quit).toHaveBeenCalled();
    expect(fake.utilityProcess.fork).not.toHaveBeenCalled();
  });

  it('opens one window with the security checklist and the bundled preload, loading app://', async () => {
    runApp(MAIN_URL);
    await tick();
    expect(fake.BrowserWindow.instances).toHaveLength(1);
    const window = fake.BrowserWindow.instances[0]!;
    const prefs = window.options.webPreferences as Record<string, unknown>;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.preload).toBe('/opt/offshift/dist/preload/preload.cjs');
    expect(window.loadURL).toHaveBeenCalledWith('app://offshift/index.html');
  });

  it('a second launch shows the existing window instead of a new one', async () => {
    runApp(MAIN_URL);
    await tick();
    fake.app.emit('second-instance');
    expect(fake.BrowserWindow.instances).toHaveLength(1);
    expect(fake.BrowserWindow.instances[0]!.focus).toHaveBeenCalled();
  });

  it('denies every permission request and check in the session', async () => {
    runApp(MAIN_URL);
    await tick();
    const s = fake.session.defaultSession;
    const request = handlerOf(s.setPermissionRequestHandler);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const callback = vi.fn();
      request({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
    }
    expect(handlerOf(s.setPermissionCheckHandler)({}, 'media', 'app://offshift', {})).toBe(false);
    expect(handlerOf(s.setDevicePermissionHandler)({})).toBe(false);
  });

  it('blocks every request that is not to app://offshift (no remote content) and adds the CSP', async () => {
    runApp(MAIN_URL);
    await tick();
    const s = fake.session.defaultSession;
    const before = handlerOf(s.webRequest.onBeforeRequest);
    for (const [url, cancel] of [
      ['https://cdn.example/x.js', true],
      ['http://127.0.0.1:7878/', true],
      ['file:///etc/passwd', true],
      ['app://offshift/assets/index.js', false],
    ] as const) {
      const callback = vi.fn();
      before({ url }, callback);
      expect(callback).toHaveBeenCalledWith({ cancel });
    }
    const headers = vi.fn();
    handlerOf(s.webRequest.onHeadersReceived)({ responseHeaders: { 'X-A': ['1'] } }, headers);
    expect(headers.mock.calls[0]![0].responseHeaders['Content-Security-Policy'][0]).toContain("script-src 'self'");
  });

  it('guards every webContents: navigation and new windows denied, webviews refused, openExternal only for the allow-list', async () => {
    runApp(MAIN_URL);
    const contents = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, contents);

    expect(contents.fire('will-navigate', 'https://evil.example/phish').prevented).toBe(true);
    expect(contents.fire('will-redirect', 'http://evil.example/').prevented).toBe(true);
    expect(contents.fire('will-attach-webview', '').prevented).toBe(true);
    expect(contents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(fake.shell.openExternal).not.toHaveBeenCalled();

    expect(contents.windowOpenHandler!({ url: 'https://docs.offshift.dev/earnings' })).toEqual({ action: 'deny' });
    expect(fake.shell.openExternal).toHaveBeenCalledWith('https://docs.offshift.dev/earnings');
    expect(contents.fire('will-navigate', 'https://offshift.dev/').prevented).toBe(true);
    expect(fake.shell.openExternal).toHaveBeenLastCalledWith('https://offshift.dev/');
    expect(fake.shell.openExternal).toHaveBeenCalledTimes(2);
  });

  it('starts the agent in a utilityProcess with the data folder and hands the loaded window a port to it', async () => {
    const previous = process.env.OFFSHIFT_HOME;
    delete process.env.OFFSHIFT_HOME;
    try {
      runApp(MAIN_URL);
      await tick();
    } finally {
      if (previous !== undefined) process.env.OFFSHIFT_HOME = previous;
    }
    expect(fake.utilityProcess.fork).toHaveBeenCalledOnce();
    const child = fake.utilityProcess.children[0]!;
    expect(child.modulePath).toBe('/opt/offshift/dist/main/agent-process.js');
    expect(child.args).toEqual(['--offshift-home=/tmp/offshift-fake-userdata']);

    // main's own connection (tray, notifications, desktop settings) comes first.
    expect(child.postMessage).toHaveBeenCalledWith({ type: 'connect', connectionId: 1 }, [fake.MessageChannelMain.created[0]!.port1]);
    const contents = fake.BrowserWindow.instances[0]!.webContents;
    expect(contents.postMessage).not.toHaveBeenCalled();
    contents.emit('did-finish-load');
    const channel = fake.MessageChannelMain.created[1]!;
    expect(child.postMessage).toHaveBeenCalledWith({ type: 'connect', connectionId: 2 }, [channel.port1]);
    expect(contents.postMessage).toHaveBeenCalledWith(CHANNELS.port, { generation: 1 }, [channel.port2]);
  });

  it('hands the agent port only to the app\'s own origin: a frame that is somewhere else gets none', async () => {
    runApp(MAIN_URL);
    await tick();
    const contents = fake.BrowserWindow.instances[0]!.webContents;
    contents.url = 'https://evil.example/';
    contents.emit('did-finish-load');
    expect(contents.postMessage).not.toHaveBeenCalled();
    contents.url = 'app://offshift/index.html#/jobs';
    contents.emit('did-finish-load');
    expect(contents.postMessage).toHaveBeenCalledOnce();
  });

  it('denies will-frame-navigate too (a subframe cannot navigate anywhere)', () => {
    runApp(MAIN_URL);
    const contents = new fake.FakeWebContents();
    fake.app.emit('web-contents-created', {}, contents);
    expect(contents.fire('will-frame-navigate', 'https://evil.example/').prevented).toBe(true);
  });

  it("forwards the owner's input idle time from powerMonitor to the agent twice a second", async () => {
    fake.powerMonitor.getSystemIdleTime.mockReturnValue(42);
    runApp(MAIN_URL);
    await tick();
    const child = fake.utilityProcess.children[0]!;
    await vi.waitFor(() => expect(child.postMessage).toHaveBeenCalledWith({ type: 'idle', seconds: 42 }), { timeout: 2000 });
  });

  it('quitting while the agent waits to restart cancels the restart', async () => {
    vi.useFakeTimers();
    try {
      runApp(MAIN_URL);
      await vi.advanceTimersByTimeAsync(0);
      fake.utilityProcess.children[0]!.emit('exit', 1);
      const event = { preventDefault: vi.fn() };
      fake.app.emit('before-quit', event);
      expect(event.preventDefault).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fake.utilityProcess.fork).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reloads a crashed window (which then gets a new port), but not forever', async () => {
    vi.useFakeTimers();
    try {
      runApp(MAIN_URL);
      await vi.advanceTimersByTimeAsync(0);
      const contents = fake.BrowserWindow.instances[0]!.webContents;
      contents.emit('render-process-gone', {}, { reason: 'clean-exit', exitCode: 0 });
      await vi.advanceTimersByTimeAsync(10_000);
      expect(contents.reload).not.toHaveBeenCalled();
      for (let i = 0; i < 4; i++) {
        contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
        await vi.advanceTimersByTimeAsync(10_000);
      }
      expect(contents.reload).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops the agent cleanly before quitting', async () => {
    runApp(MAIN_URL);
    await tick();
    const child = fake.utilityProcess.children[0]!;
    const event = { preventDefault: vi.fn() };
    fake.app.emit('before-quit', event);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(child.postMessage).toHaveBeenLastCalledWith({ type: 'shutdown' });
    fake.app.emit('before-quit', { preventDefault: vi.fn() }); // a second Quit while stopping
    expect(child.postMessage.mock.calls.filter((c) => (c[0] as { type: string }).type === 'shutdown')).toHaveLength(1);
    child.emit('exit', 0);
    await tick();
    expect(fake.app.quit).toHaveBeenCalled();
    // No restart after a requested stop.
    expect(fake.utilityProcess.fork).toHaveBeenCalledOnce();
  });
});
