/**
 * Applies the security checklist's runtime guards to a session and to every webContents.
 * The decisions themselves are pure (navigation.ts, permissions.ts); this file only wires them.
 */
import type { Session, WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY } from './csp.js';
import { decideNavigation, decideWindowOpen, isAllowedRequestUrl, type NavigationDecision } from './navigation.js';
import { decideDevicePermission, decidePermissionCheck, decidePermissionRequest } from './permissions.js';

export type OpenExternal = (url: string) => Promise<void>;
export type Warn = (message: string, fields?: Record<string, unknown>) => void;

export function hardenSession(session: Session, warn: Warn): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    const granted = decidePermissionRequest(permission);
    if (!granted) warn('permission request denied', { permission });
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission) => decidePermissionCheck(permission));
  session.setDevicePermissionHandler(() => decideDevicePermission());
  // No remote content: the window's session may load only app://offshift (and data: images).
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequestUrl(details.url);
    if (!allowed) warn('request blocked', { url: details.url.slice(0, 200) });
    callback({ cancel: !allowed });
  });
  // The protocol handler sets the CSP on its own responses; this covers anything else.
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
}

function apply(decision: NavigationDecision, openExternal: OpenExternal, warn: Warn, what: string, url: string): void {
  if (decision.action === 'deny-and-open-externally') {
    openExternal(decision.url).catch((error: unknown) => warn('could not open an external link', { url, error }));
  } else {
    warn(`${what} denied`, { url: url.slice(0, 200) });
  }
}

/** For every webContents (the window's and any other): no navigation, no new window, no webview. */
export function hardenWebContents(contents: WebContents, openExternal: OpenExternal, warn: Warn): void {
  const deny = (what: string) => (event: { preventDefault(): void }, url: string) => {
    event.preventDefault();
    apply(decideNavigation(url), openExternal, warn, what, url);
  };
  contents.on('will-navigate', deny('navigation'));
  contents.on('will-redirect', deny('redirect'));
  // Navigation in any frame (subframes included): denied like the top frame's.
  contents.on('will-frame-navigate', (event: { preventDefault(): void; url?: string }, url?: string) => {
    event.preventDefault();
    const target = typeof url === 'string' ? url : (event.url ?? '');
    apply(decideNavigation(target), openExternal, warn, 'frame navigation', target);
  });
  contents.setWindowOpenHandler(({ url }) => {
    apply(decideWindowOpen(url), openExternal, warn, 'new window', url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    warn('webview denied');
  });
}
