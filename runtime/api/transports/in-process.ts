import type { Transport } from '../client.js';
import type { Dispatch } from '../dispatcher.js';
import type { EventBus } from '../events.js';

/** The transport for tests: calls the dispatcher directly, with a JSON round trip so that
 *  nothing works in tests that would not survive a real wire. */
export function inProcessTransport(dispatch: Dispatch, bus: EventBus): Transport {
  const listeners = new Set<(event: string, payload: unknown) => void>();
  const unsubscribe = bus.subscribe((event, payload) => {
    const copy = JSON.parse(JSON.stringify(payload)) as unknown;
    for (const l of listeners) l(event, copy);
  });
  return {
    async request(command, input) {
      const response = await dispatch(command, JSON.parse(JSON.stringify(input ?? {})));
      return JSON.parse(JSON.stringify(response)) as Awaited<ReturnType<Dispatch>>;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
