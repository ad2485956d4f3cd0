import { z } from 'zod';
import { commands, isCommandName, type CommandInput, type CommandName, type Handler, type Handlers } from './contract.js';
import { toErrorBody, type ErrorBody } from '../errors.js';

export type Result<T> = { ok: true; result: T } | { ok: false; error: ErrorBody };

export type { Handler, Handlers };

export type Dispatch = (command: string, input: unknown) => Promise<Result<unknown>>;

/**
 * Validates every request against the contract before its handler runs. Unknown commands,
 * invalid input and handler failures all come back as `{ ok: false, error: { code, message } }`.
 */
export function createDispatcher(handlers: Handlers, onInternalError?: (command: string, error: unknown) => void): Dispatch {
  // Concurrent calls of a command without input (system.check, gpu.list, wallet.status…) share
  // one run: such commands are reads or idempotent, and a flood of them costs one.
  const inFlight = new Map<string, Promise<Result<unknown>>>();
  const run = async (command: CommandName, input: unknown): Promise<Result<unknown>> => {
    try {
      const handler = handlers[command] as (input: unknown) => Promise<unknown>;
      return { ok: true, result: await handler(input) };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'internal') onInternalError?.(command, error);
      return { ok: false, error: body };
    }
  };
  return async (command, input) => {
    if (!isCommandName(command)) {
      return { ok: false, error: { code: 'unknown-command', message: `There is no command "${command}".` } };
    }
    const parsed = commands[command].input.safeParse(input ?? {});
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'invalid-input', message: shorten(`Invalid input for ${command}: ${z.prettifyError(parsed.error)}`) },
      };
    }
    const data: unknown = parsed.data;
    if (typeof data !== 'object' || data === null || Object.keys(data).length > 0) return run(command, data);
    const shared = inFlight.get(command);
    if (shared) return shared;
    const once = run(command, data).finally(() => inFlight.delete(command));
    inFlight.set(command, once);
    return once;
  };
}

/** An error message names what was wrong, not the whole of a hostile input (an unknown key of 200 KB). */
function shorten(message: string, max = 2000): string {
  return message.length > max ? `${message.slice(0, max)}… (shortened)` : message;
}

export type { CommandInput };
