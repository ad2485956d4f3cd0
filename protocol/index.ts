/**
 * The marketplace protocol, version 1: every message between a provider (the agent), the market
 * and a buyer, as zod schemas. All three import this room (runtime/market/ on the
 * provider's side, market/ for the reference market, buyer/ for the buyer), and each validates
 * every message it receives with it. docs/protocol.md is its human form.
 *
 * Pure zod, a file per idea (frames.ts parses raw frames on the node side). This file is the
 * room's door: what the other rooms import.
 */
export * from './limits.js';
export { marketJobIdSchema, roleSchema, type Role } from './common.js';
export * from './values.js';
export * from './images.js';
export * from './payout.js';
export * from './advertisement.js';
export * from './offers.js';
export * from './reports.js';
export * from './messages.js';
export * from './views.js';
export * from './sign-in.js';
