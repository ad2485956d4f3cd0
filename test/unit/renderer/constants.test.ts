import { describe, expect, it } from 'vitest';
import * as renderer from '../../../renderer/src/api/constants.js';
import * as server from '../../../runtime/api/transports/websocket-server.js';

// The renderer cannot import the node-only server module, so it keeps its own copy of the
// endpoint constants: this test fails the moment the two drift apart.
describe('the dashboard and the agent agree on the WebSocket endpoint', () => {
  it('uses the same path and subprotocols', () => {
    expect(renderer.API_PATH).toBe(server.API_PATH);
    expect(renderer.API_SUBPROTOCOL).toBe(server.API_SUBPROTOCOL);
    expect(renderer.TOKEN_SUBPROTOCOL_PREFIX).toBe(server.TOKEN_SUBPROTOCOL_PREFIX);
  });
});
