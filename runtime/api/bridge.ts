/**
 * What the preload script exposes as `window.offshift` in the Electron window: the raw
 * request/event pair of a `Transport`, nothing else. The renderer wraps it with `createClient`.
 * Pure types: shared by preload/ and renderer/.
 */
import type { Transport } from './client.js';

export type OffshiftBridge = Pick<Transport, 'request' | 'onEvent'>;

/** The name on `window`. */
export const BRIDGE_KEY = 'offshift';
