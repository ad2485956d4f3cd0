/** Parsing one WebSocket frame of the marketplace protocol (node side: Buffers). */
import type { z } from 'zod';
import { MAX_MESSAGE_BYTES } from './index.js';

export type ParsedFrame<T> = { ok: true; message: T } | { ok: false; code: string; message: string };

/** Parses one frame (ws's `message` event: data and isBinary): size-checked, JSON, then the schema. Never throws. */
export function parseMessage<T>(schema: z.ZodType<T>, data: unknown, isBinary: boolean): { ok: true; message: T } | { ok: false; code: string; message: string } {
  if (isBinary) return { ok: false, code: 'binary-frame', message: 'Messages are JSON text frames; binary frames are refused.' };
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data as Buffer[]).toString('utf8') : null;
  if (text === null) return { ok: false, code: 'binary-frame', message: 'Messages are JSON text frames.' };
  if (text.length > MAX_MESSAGE_BYTES) return { ok: false, code: 'too-large', message: `A message is at most ${MAX_MESSAGE_BYTES} bytes.` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'not-json', message: 'The message is not JSON.' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? first.path.join('.') : 'message';
    return { ok: false, code: 'invalid-message', message: `Invalid message: ${where}: ${first?.message ?? 'invalid'}`.slice(0, 500) };
  }
  return { ok: true, message: parsed.data };
}

/** A malformed message adds one to the count; at this level the connection is closed (1008). */
export const MALFORMED_LIMIT = 20;
/** What each valid message takes off the count: a peer may send at most one malformed message per two valid ones, beyond a burst of MALFORMED_LIMIT − 1. */
export const MALFORMED_DRAIN_PER_VALID = 0.5;

/**
 * Counts malformed messages against valid ones (a leaky bucket), not the run: "19 malformed,
 * then one valid, repeated" still closes the connection, within two rounds. Both ends of the
 * protocol use it (the market for each peer, the agent for its market).
 */
export class MalformedCounter {
  private level = 0;

  /** Records one message; true when the peer has now sent too many malformed ones and must be closed. */
  record(malformed: boolean): boolean {
    this.level = malformed ? this.level + 1 : Math.max(0, this.level - MALFORMED_DRAIN_PER_VALID);
    return this.level >= MALFORMED_LIMIT;
  }

  get count(): number {
    return this.level;
  }
}
