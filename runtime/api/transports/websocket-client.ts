import WebSocket from 'ws';
import type { Transport } from '../client.js';
import { socketTransport } from './socket-client.js';
import { API_PATH, API_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from './websocket-server.js';

/** Connects a node process (the CLI, tests) to a running headless agent. */
export async function connectWebSocket(port: number, token: string, timeoutMs = 3000): Promise<Transport> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${API_PATH}`, [API_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token], {
    handshakeTimeout: timeoutMs,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`The agent refused the connection (HTTP ${res.statusCode}).`)));
  });
  return socketTransport({
    send: (data) => ws.send(data),
    onMessage: (listener) => ws.on('message', (data) => listener(data.toString())),
    onClose: (listener) => ws.on('close', (code) => listener(`closed with code ${code}`)),
    close: () => ws.close(),
  });
}
