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

/** Parses one raw incoming message; a malformed one yields an error response, never a throw. */
export function parseRequest(raw: string): { ok: true; request: RequestMessage } | { ok: false; response: ResponseMessage } {
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
