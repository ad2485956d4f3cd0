/**
 * The headless agent's WebSocket endpoint, as the browser sees it. These mirror the constants in
 * runtime/api/transports/websocket-server.ts, which is node-only and so cannot be imported here;
 * test/unit/renderer/constants.test.ts fails if the two ever drift apart.
 */
export const API_PATH = '/api';
export const API_SUBPROTOCOL = 'offshift';
/** Browsers cannot set headers on a WebSocket, so the token travels as a second subprotocol. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'token.';

/** Where the dashboard keeps the token for this tab (survives reloads, not the tab). */
export const TOKEN_STORAGE_KEY = 'offshift.apiToken';
