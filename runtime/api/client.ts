/**
 * The typed client: one interface whichever transport is underneath (in-process, WebSocket,
 * Electron MessagePort). Pure: no node-only imports, so the renderer uses it too.
 */
import type { CommandInput, CommandName, CommandOutput, EventName, EventPayload } from './contract.js';
import type { ErrorBody } from '../errors.js';

/** What a transport must provide: send a request, get the raw result; receive raw events. */
export interface Transport {
  request(command: string, input: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorBody }>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  close?(): void;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Client {
  call<K extends CommandName>(command: K, ...input: {} extends CommandInput<K> ? [CommandInput<K>?] : [CommandInput<K>]): Promise<CommandOutput<K>>;
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
  close(): void;
}

export function createClient(transport: Transport): Client {
  return {
    async call(command, ...rest) {
      const response = await transport.request(command, rest[0] ?? {});
      if (!response.ok) throw new ApiError(response.error.code, response.error.message);
      return response.result as never;
    },
    on(event, listener) {
      return transport.onEvent((name, payload) => {
        if (name === event) listener(payload as never);
      });
    },
    close() {
      transport.close?.();
    },
  };
}
