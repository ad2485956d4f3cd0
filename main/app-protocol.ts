/**
 * The app:// protocol that serves the built dashboard (dist/renderer) to the window.
 *
 * Why a custom scheme rather than file://: a file:// page shares one origin with every file on
 * the disk and cannot receive response headers, so a CSP 'self' would mean "any local file".
 * app://offshift is a real, secure, standard origin that contains only dist/renderer; every
 * response carries the CSP header; paths that escape the folder are refused.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { securityHeaders } from './security/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'offshift';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Passed to protocol.registerSchemesAsPrivileged before the app is ready. */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  stream: false,
  bypassCSP: false,
  allowServiceWorkers: false,
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json',
};

export type AppRequestResolution =
  | { kind: 'file'; file: string; contentType: string }
  | { kind: 'refused'; status: 400 | 403 | 404 | 405; reason: string };

/**
 * Maps an app:// request to a file in `root`. Pure (no disk access): the caller reads the file
 * and answers 404 if it does not exist. Only GET/HEAD, only our host, never outside `root`.
 */
export function resolveAppRequest(url: string, method: string, root: string): AppRequestResolution {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'refused', status: 405, reason: 'only GET and HEAD' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'refused', status: 400, reason: 'not a URL' };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { kind: 'refused', status: 403, reason: 'foreign origin' };
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return { kind: 'refused', status: 400, reason: 'bad path encoding' };
  }
  if (pathname.includes('\0')) return { kind: 'refused', status: 400, reason: 'bad path' };
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const base = path.resolve(root);
  const file = path.resolve(base, '.' + pathname);
  if (!file.startsWith(base + path.sep)) return { kind: 'refused', status: 403, reason: 'outside the dashboard folder' };
  const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (!contentType) return { kind: 'refused', status: 404, reason: 'unknown file type' };
  return { kind: 'file', file, contentType };
}

/** The protocol.handle handler: reads the resolved file and answers with the security headers. */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const resolution = resolveAppRequest(request.url, request.method, root);
    const headers = securityHeaders();
    if (resolution.kind === 'refused') {
      return new Response(null, { status: resolution.status, headers });
    }
    let body: Buffer;
    try {
      body = await fs.readFile(resolution.file);
    } catch {
      if (resolution.file === path.join(path.resolve(root), 'index.html')) {
        const text = 'The dashboard is not built. Run `npm run build` and start Offshift again.\n';
        return new Response(text, { status: 503, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } });
      }
      return new Response(null, { status: 404, headers });
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: { ...headers, 'Content-Type': resolution.contentType, 'Cache-Control': 'no-cache' },
    });
  };
}
