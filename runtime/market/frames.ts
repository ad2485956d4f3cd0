/** Parsing one WebSocket frame of the marketplace protocol (node side: Buffers). */
import type { z } from 'zod';
import { MAX_MESSAGE_BYTES } from './protocol.js';

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
