import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, APP_SCHEME_PRIVILEGES, createAppProtocolHandler, resolveAppRequest } from '../../../main/app-protocol.js';
import { CONTENT_SECURITY_POLICY, securityHeaders } from '../../../main/security/csp.js';
import { decideNavigation, decideWindowOpen, EXTERNAL_URL_ALLOW_LIST, isAllowedExternalUrl, isAllowedRequestUrl } from '../../../main/security/navigation.js';
import { decideDevicePermission, decidePermissionCheck, decidePermissionRequest } from '../../../main/security/permissions.js';
import { mainWindowOptions, secureWebPreferences } from '../../../main/security/window-options.js';
import { makeTempDir } from '../../helpers/temp-home.js';

describe('window web preferences (the Electron security checklist)', () => {
  const prefs = secureWebPreferences('/app/dist/preload/preload.cjs', { devTools: false });

  it('isolates the preload, sandboxes the renderer and gives the page no Node', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and the risky features off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.devTools).toBe(false);
    expect(prefs).not.toHaveProperty('enableRemoteModule');
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
  });

  it('loads the bundled preload', () => {
    expect(prefs.preload).toBe('/app/dist/preload/preload.cjs');
  });

  it('puts the same preferences into the window options, hidden until first paint', () => {
    const options = mainWindowOptions('/p.cjs', { devTools: true });
    expect(options.show).toBe(false);
    expect(options.webPreferences).toEqual(secureWebPreferences('/p.cjs', { devTools: true }));
  });
});

describe('content security policy', () => {
  const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));

  it('allows scripts only from the app itself: no inline script, no eval, no remote host', () => {
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:/);
  });

  it('gives the page no network, no plugins, no frames, no forms', () => {
    expect(directives.get('connect-src')).toBe("'none'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('frame-src')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('img-src')).toBe("'self' data:");
  });

  it('goes out with every app:// response', () => {
    expect(securityHeaders()['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(securityHeaders()['X-Content-Type-Options']).toBe('nosniff');
  });
});

describe('navigation and new windows', () => {
  it('denies every navigation, including to the app itself and to file://', () => {
    for (const url of ['https://evil.example/', 'http://offshift.dev/', 'file:///etc/passwd', APP_ENTRY_URL, 'javascript:alert(1)', 'not a url']) {
      expect(decideNavigation(url)).toEqual({ action: 'deny' });
      expect(decideWindowOpen(url)).toEqual({ action: 'deny' });
    }
  });

  it('opens allow-listed https pages in the browser, never in the app', () => {
    expect(EXTERNAL_URL_ALLOW_LIST.length).toBeGreaterThan(0);
    for (const origin of EXTERNAL_URL_ALLOW_LIST) {
      expect(decideWindowOpen(`${origin}/guide/setup`)).toEqual({ action: 'deny-and-open-externally', url: `${origin}/guide/setup` });
      expect(decideNavigation(`${origin}/`)).toEqual({ action: 'deny-and-open-externally', url: `${origin}/` });
    }
  });

  it('allows openExternal only for exact allow-listed https origins', () => {
    expect(isAllowedExternalUrl('https://docs.offshift.dev/x')).toBe(true);
    expect(isAllowedExternalUrl('http://docs.offshift.dev/x')).toBe(false);
    expect(isAllowedExternalUrl('https://docs.offshift.dev.evil.example/x')).toBe(false);
    expect(isAllowedExternalUrl('https://evil.example/?u=https://docs.offshift.dev')).toBe(false);
    expect(isAllowedExternalUrl('https://user:pw@docs.offshift.dev/')).toBe(false);
    expect(isAllowedExternalUrl('https://docs.offshift.dev:8443/')).toBe(false);
    expect(isAllowedExternalUrl('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternalUrl('smb://host/share')).toBe(false);
  });

  it('lets the window request only its own app:// origin (no remote content)', () => {
    expect(isAllowedRequestUrl('app://offshift/assets/index.js')).toBe(true);
    expect(isAllowedRequestUrl('data:image/png;base64,AAAA')).toBe(true);
    expect(isAllowedRequestUrl('app://other/index.html')).toBe(false);
    expect(isAllowedRequestUrl('https://cdn.example/lib.js')).toBe(false);
    expect(isAllowedRequestUrl('http://127.0.0.1:7878/api')).toBe(false);
    expect(isAllowedRequestUrl('ws://127.0.0.1:7878/api')).toBe(false);
    expect(isAllowedRequestUrl('file:///etc/passwd')).toBe(false);
  });
});

describe('permissions', () => {
  it('denies every permission request and check', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'midi', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb', 'unknown']) {
      expect(decidePermissionRequest(p)).toBe(false);
      expect(decidePermissionCheck(p)).toBe(false);
    }
    expect(decideDevicePermission()).toBe(false);
  });
});

describe('the app:// protocol', () => {
  const root = '/srv/dist/renderer';

  it('is registered as a standard, secure scheme that does not bypass the CSP', () => {
    expect(APP_SCHEME_PRIVILEGES.standard).toBe(true);
    expect(APP_SCHEME_PRIVILEGES.secure).toBe(true);
    expect(APP_SCHEME_PRIVILEGES.bypassCSP).toBe(false);
  });

  it('maps URLs to files inside the dashboard folder only', () => {
    expect(resolveAppRequest('app://offshift/', 'GET', root)).toEqual({ kind: 'file', file: path.join(root, 'index.html'), contentType: 'text/html; charset=utf-8' });
    expect(resolveAppRequest('app://offshift/assets/a.js', 'GET', root)).toMatchObject({ kind: 'file', file: path.join(root, 'assets', 'a.js') });
    // The URL parser folds dot segments (even %2e%2e) before we see the path: it stays inside root.
    expect(resolveAppRequest('app://offshift/%2e%2e/%2e%2e/etc/passwd.js', 'GET', root)).toMatchObject({ kind: 'file', file: path.join(root, 'etc', 'passwd.js') });
    expect(resolveAppRequest('app://offshift/..%2f..%2fsecret.js', 'GET', root)).toMatchObject({ kind: 'refused', status: 403 });
    expect(resolveAppRequest('app://evil/index.html', 'GET', root)).toMatchObject({ kind: 'refused', status: 403 });
    expect(resolveAppRequest('app://offshift/index.html', 'POST', root)).toMatchObject({ kind: 'refused', status: 405 });
    expect(resolveAppRequest('app://offshift/key.pem', 'GET', root)).toMatchObject({ kind: 'refused', status: 404 });
  });

  it('serves files with the CSP header, 404s missing ones and explains an unbuilt dashboard', async () => {
    const dir = makeTempDir('offshift-app-proto-');
    try {
      const handler = createAppProtocolHandler(dir);
      const missingIndex = await handler(new Request('app://offshift/index.html'));
      expect(missingIndex.status).toBe(503);
      expect(await missingIndex.text()).toContain('npm run build');

      fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Offshift</title>');
      const ok = await handler(new Request('app://offshift/'));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(ok.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await ok.text()).toContain('<title>Offshift</title>');

      const missing = await handler(new Request('app://offshift/assets/nope.js'));
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
