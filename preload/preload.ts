/**
 * The sandboxed preload: exposes `window.offshift` (the typed API's raw request/event pair over
 * a MessagePort to the agent) and nothing else. It may use only electron's contextBridge and
 * ipcRenderer; esbuild bundles everything else into dist/preload/preload.cjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY, type OffshiftBridge } from '../runtime/api/bridge.js';
import { CHANNELS, parseAgentStatus } from './channels.js';
import { createPortBridge, type PortLike } from './port-bridge.js';

const bridge = createPortBridge();

ipcRenderer.on(CHANNELS.port, (event) => {
  const port = event.ports[0];
  if (port) bridge.attachPort(port as unknown as PortLike);
});

ipcRenderer.on(CHANNELS.agentStatus, (_event, data: unknown) => {
  const status = parseAgentStatus(data);
  if (status) bridge.agentStatus(status);
});

const exposed: OffshiftBridge = {
  request: (command, input) => bridge.api.request(command, input),
  onEvent: (listener) => bridge.api.onEvent(listener),
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, exposed);
