/**
 * What arrives from the agent crosses a boundary: every command result and event is parsed
 * against the contract's zod schemas before the UI sees it. A mismatch (a dashboard and an
 * agent of different versions) becomes a clear error instead of a broken page.
 */
import type { Transport } from '../../../runtime/api/client.js';
import { commands, events, isCommandName, isEventName } from '../../../runtime/api/contract.js';

export function validatingTransport(inner: Transport, warn: (message: string) => void = () => {}): Transport {
  return {
    async request(command, input) {
      const response = await inner.request(command, input);
      if (!response.ok || !isCommandName(command)) return response;
      const parsed = commands[command].output.safeParse(response.result);
      if (parsed.success) return { ok: true, result: parsed.data };
      return {
        ok: false,
        error: {
          code: 'bad-response',
          message: `The agent's answer to ${command} does not match this dashboard's version. Reload the page; if it persists, rebuild with \`npm run build\` and restart the agent.`,
        },
      };
    },
    onEvent(listener) {
      return inner.onEvent((event, payload) => {
        if (!isEventName(event)) return;
        const parsed = events[event].safeParse(payload);
        if (parsed.success) listener(event, parsed.data);
        else warn(`Ignored a malformed "${event}" event from the agent.`);
      });
    },
    close() {
      inner.close?.();
    },
  };
}
