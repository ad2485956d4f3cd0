import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

/**
 * The renderer's web preferences: the Electron security checklist, in one place, so a test can
 * read them field by field. The window shows only our own bundled dashboard; it has no Node,
 * no remote module, its own JavaScript world, and Chromium's OS-level sandbox.
 */
export function secureWebPreferences(preloadPath: string, options: { devTools: boolean }): WebPreferences {
  return {
    preload: preloadPath,
    // The preload runs in its own JavaScript world; the page sees only what contextBridge exposes.
    contextIsolation: true,
    // Chromium's sandbox for the renderer and the preload (the preload gets only a tiny `require`).
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    // Same-origin policy on; never load http content into our https-like app:// origin.
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    // No <webview>: it could host remote content with its own preferences.
    webviewTag: false,
    // Dropping a file or link onto the window must not navigate away from the dashboard.
    navigateOnDragDrop: false,
    // A page that spams alert() gets a "prevent more dialogs" checkbox.
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools,
  };
}

/** The main window: hidden until its first paint, so it never flashes white. */
export function mainWindowOptions(preloadPath: string, options: { devTools: boolean; icon?: string }): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Offshift',
    backgroundColor: '#0f1115',
    autoHideMenuBar: true,
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: secureWebPreferences(preloadPath, options),
  };
}
