import type { Dispatch } from '../dispatcher.js';
import type { EventBus } from '../events.js';
import { parseRequest, type ServerMessage } from '../protocol.js';

/**
 * Serves one client connection, whatever carries it (a WebSocket, an Electron MessagePort):
 * parses each raw message, dispatches it and sends the response; forwards every event.
 * Returns a function that detaches the connection from the event stream.
 */
export function serveConnection(
  dispatch: Dispatch,
  bus: EventBus,
  send: (message: ServerMessage) => void,
  onMessage: (handler: (raw: string) => void) => void,
): () => void {
  onMessage((raw) => {
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      send(parsed.response);
      return;
    }
    const { id, command, input } = parsed.request;
    void dispatch(command, input).then((response) => send({ type: 'response', id, ...response }));
  });
  return bus.subscribe((event, payload) => send({ type: 'event', event, payload }));
}
