import { z } from 'zod';

/** The messages that travel over every transport (WebSocket, MessagePort). */
export const requestMessageSchema = z
  .object({
    type: z.literal('request'),
    id: z.number().int().nonnegative(),
    command: z.string().min(1).max(100),
    input: z.unknown().optional(),
  })
  .strict();
export type RequestMessage = z.infer<typeof requestMessageSchema>;

export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: { code: string; message: string } };

export interface EventMessage {
  type: 'event';
  event: string;
  payload: unknown;
}

export type ServerMessage = ResponseMessage | EventMessage;

/** No command's input nests deeper than this; deeper JSON is refused before it is parsed. */
export const MAX_JSON_DEPTH = 64;

/**
 * How deep `raw`'s JSON nests, counting until `limit` is passed (then `limit + 1`). One pass,
 * strings skipped: a 1 MiB `[[[[…` costs a millisecond here but hundreds in JSON.parse.
 */
export function jsonDepth(raw: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123 /* [ { */) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 93 || c === 125 /* ] } */) depth--;
  }
  return max;
}

/** Parses one raw incoming message; a malformed one yields an error response, never a throw. */
export function parseRequest(raw: string): { ok: true; request: RequestMessage } | { ok: false; response: ResponseMessage } {
  if (jsonDepth(raw) > MAX_JSON_DEPTH) {
    return { ok: false, response: { type: 'response', id: -1, ok: false, error: { code: 'bad-message', message: `The message nests deeper than ${MAX_JSON_DEPTH} levels.` } } };
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, response: { type: 'response', id: -1, ok: false, error: { code: 'bad-message', message: 'The message is not valid JSON.' } } };
  }
  const parsed = requestMessageSchema.safeParse(data);
  if (!parsed.success) {
    const id = typeof data === 'object' && data !== null && typeof (data as { id?: unknown }).id === 'number' ? (data as { id: number }).id : -1;
    return {
      ok: false,
      response: { type: 'response', id, ok: false, error: { code: 'bad-message', message: `Malformed request: ${z.prettifyError(parsed.error)}` } },
    };
  }
  return { ok: true, request: parsed.data };
}
