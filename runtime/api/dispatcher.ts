import { z } from 'zod';
import { commands, isCommandName, type CommandInput, type CommandName, type CommandOutput } from './contract.js';
import { toErrorBody, type ErrorBody } from './errors.js';

export type Result<T> = { ok: true; result: T } | { ok: false; error: ErrorBody };

/** A handler is a plain async function of its validated input: testable without any transport. */
export type Handler<K extends CommandName> = (input: z.output<(typeof commands)[K]['input']>) => Promise<CommandOutput<K>>;
export type Handlers = { [K in CommandName]: Handler<K> };

export type Dispatch = (command: string, input: unknown) => Promise<Result<unknown>>;

/**
 * Validates every request against the contract before its handler runs. Unknown commands,
 * invalid input and handler failures all come back as `{ ok: false, error: { code, message } }`.
 */
export function createDispatcher(handlers: Handlers, onInternalError?: (command: string, error: unknown) => void): Dispatch {
  return async (command, input) => {
    if (!isCommandName(command)) {
      return { ok: false, error: { code: 'unknown-command', message: `There is no command "${command}".` } };
    }
    const parsed = commands[command].input.safeParse(input ?? {});
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'invalid-input', message: `Invalid input for ${command}: ${z.prettifyError(parsed.error)}` },
      };
    }
    try {
      const handler = handlers[command] as (input: unknown) => Promise<unknown>;
      return { ok: true, result: await handler(parsed.data) };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'internal') onInternalError?.(command, error);
      return { ok: false, error: body };
    }
  };
}

export type { CommandInput };
