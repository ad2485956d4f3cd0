/**
 * Where the window may go: nowhere. Pure decisions, so each rule is a unit test.
 * The dashboard is a single page (hash routing) served from app://offshift; any navigation
 * or new window is denied, and a link to one of the project's own https sites opens in the
 * user's browser instead, never inside the app.
 */
import { APP_HOST, APP_SCHEME } from '../app-protocol.js';

/** The only places `shell.openExternal` may open. Exact https origins, nothing else. */
export const EXTERNAL_URL_ALLOW_LIST: readonly string[] = ['https://offshift.dev', 'https://docs.offshift.dev'];

export type NavigationDecision = { action: 'deny' } | { action: 'deny-and-open-externally'; url: string };

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True only for an https URL on an allow-listed origin, with no credentials and the default port. */
export function isAllowedExternalUrl(url: string, allowList: readonly string[] = EXTERNAL_URL_ALLOW_LIST): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol !== 'https:' || u.username !== '' || u.password !== '' || u.port !== '') return false;
  return allowList.includes(u.origin);
}

/** `will-navigate`, `will-redirect`, `will-frame-navigate`: always denied in the window. */
export function decideNavigation(url: string, allowList: readonly string[] = EXTERNAL_URL_ALLOW_LIST): NavigationDecision {
  return isAllowedExternalUrl(url, allowList) ? { action: 'deny-and-open-externally', url } : { action: 'deny' };
}

/** `setWindowOpenHandler`: no new Electron window, ever. */
export function decideWindowOpen(url: string, allowList: readonly string[] = EXTERNAL_URL_ALLOW_LIST): NavigationDecision {
  return decideNavigation(url, allowList);
}

/**
 * Which requests the window's session may make at all (`webRequest.onBeforeRequest`): our own
 * app:// origin, data: images, and the DevTools' own pages. No http(s), no file://, no ws://.
 */
export function isAllowedRequestUrl(url: string): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === `${APP_SCHEME}:`) return u.host === APP_HOST;
  if (u.protocol === 'data:') return true;
  if (u.protocol === 'devtools:') return true;
  return false;
}
