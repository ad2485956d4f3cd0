import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OffshiftBridge } from '../../../runtime/api/bridge.js';
import { EventBus } from '../../../runtime/api/events.js';
import type { Dispatch } from '../../../runtime/api/dispatcher.js';
import { serveConnection } from '../../../runtime/api/transports/serve-connection.js';

vi.mock('electron', () => import('../main/fake-electron.js'));

let fake = await import('../main/fake-electron.js');
const { CHANNELS } = await import('../../../preload/channels.js');

/** The agent's end of a port: the real serveConnection over a worker_threads MessagePort. */
function serveAgentOn(port: MessagePort, dispatch: Dispatch, bus = new EventBus()) {
  port.on('message', () => {}); // keep node from treating the port as idle before serveConnection listens
  const detach = serveConnection(
    dispatch,
    bus,
    (message) => port.postMessage(JSON.stringify(message)),
    (handler) => port.on('message', (data) => handler(String(data))),
  );
  return { bus, detach };
}

const echo: Dispatch = async (command, input) =>
  command === 'agent.info' ? { ok: true, result: { echoed: input, from: 'agent' } } : { ok: false, error: { code: 'unknown-command', message: `There is no command "${command}".` } };

async function loadPreload(): Promise<{ bridge: OffshiftBridge; exposed: Record<string, unknown> }> {
  // A fresh preload (and a fresh fake electron that it and this test share) for each test.
  vi.resetModules();
  await import('../../../preload/preload.js');
  fake = (await import('electron')) as unknown as typeof fake;
  expect(fake.contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
  const [key, value] = fake.contextBridge.exposeInMainWorld.mock.calls[0]! as [string, Record<string, unknown>];
  expect(key).toBe('offshift');
  return { bridge: value as unknown as OffshiftBridge, exposed: value };
}

function givePort(port: MessagePort, generation = 1) {
  fake.ipcRenderer.emit(CHANNELS.port, { ports: [port], sender: null }, { generation });
}

const open: MessagePort[] = [];
function channel() {
  const c = new MessageChannel();
  open.push(c.port1, c.port2);
  return c;
}

describe('preload: window.offshift over a MessagePort (electron mocked)', () => {
  beforeEach(() => fake.resetFakeElectron());
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });

  it('exposes exactly `offshift`, with only request and onEvent', async () => {
    const { exposed } = await loadPreload();
    expect(Object.keys(exposed).sort()).toEqual(['onEvent', 'request']);
    expect(typeof exposed.request).toBe('function');
    expect(typeof exposed.onEvent).toBe('function');
    expect(fake.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
  });

  it('queues requests until the port arrives, then forwards them to the agent', async () => {
    const { bridge } = await loadPreload();
    const early = bridge.request('agent.info', { a: 1 });
    const c = channel();
    serveAgentOn(c.port2, echo);
    givePort(c.port1);
    await expect(early).resolves.toEqual({ ok: true, result: { echoed: { a: 1 }, from: 'agent' } });
    await expect(bridge.request('nope', {})).resolves.toEqual({ ok: false, error: { code: 'unknown-command', message: 'There is no command "nope".' } });
  });

  it('forwards agent events to listeners until they unsubscribe', async () => {
    const { bridge } = await loadPreload();
    const c = channel();
    const { bus } = serveAgentOn(c.port2, echo);
    givePort(c.port1);
    const seen: Array<[string, unknown]> = [];
    const off = bridge.onEvent((event, payload) => seen.push([event, payload]));
    await bridge.request('agent.info', {}); // the connection is up
    bus.emit('notice', { level: 'info', title: 'Hello', message: 'from the agent' });
    await vi.waitFor(() => expect(seen).toEqual([['notice', { level: 'info', title: 'Hello', message: 'from the agent' }]]));
    off();
    bus.emit('notice', { level: 'info', title: 'Again', message: 'x' });
    await bridge.request('agent.info', {});
    expect(seen).toHaveLength(1);
  });

  it('switches to the new port after an agent restart, keeping its event listeners', async () => {
    const { bridge } = await loadPreload();
    const first = channel();
    serveAgentOn(first.port2, async () => ({ ok: true, result: 'first' }));
    givePort(first.port1, 1);
    await expect(bridge.request('agent.info', {})).resolves.toEqual({ ok: true, result: 'first' });

    const seen: string[] = [];
    bridge.onEvent((event, payload) => seen.push(`${event}:${(payload as { title: string }).title}`));
    fake.ipcRenderer.emit(CHANNELS.agentStatus, {}, { status: 'restarting', notice: { level: 'warn', title: 'The agent stopped and is restarting', message: 'm' } });
    first.port2.close(); // the old agent is gone
    const during = bridge.request('agent.info', {});

    const second = channel();
    const { bus } = serveAgentOn(second.port2, async () => ({ ok: true, result: 'second' }));
    givePort(second.port1, 2);
    await expect(during).resolves.toEqual({ ok: true, result: 'second' });
    bus.emit('notice', { level: 'info', title: 'Back', message: 'm' });
    await vi.waitFor(() => expect(seen).toEqual(['notice:The agent stopped and is restarting', 'notice:The agent is running again', 'notice:Back']));
  });

  it('answers in-flight requests with a clear error when the agent dies', async () => {
    const { bridge } = await loadPreload();
    const c = channel();
    c.port2.on('message', () => {}); // an agent that never answers
    givePort(c.port1);
    const pending = bridge.request('agent.info', {});
    c.port2.close();
    const response = await pending;
    expect(response.ok).toBe(false);
    if (!response.ok) expect(response.error.code).toBe('disconnected');
  });

  it('fails queued and new requests with main\'s message once main gives up on the agent', async () => {
    const { bridge } = await loadPreload();
    const queued = bridge.request('agent.info', {});
    fake.ipcRenderer.emit(CHANNELS.agentStatus, {}, { status: 'failed', notice: { level: 'error', title: 'The agent has stopped', message: 'Quit and reopen Offshift.' } });
    await expect(queued).resolves.toEqual({ ok: false, error: { code: 'agent-unavailable', message: 'Quit and reopen Offshift.' } });
    await expect(bridge.request('agent.info', {})).resolves.toMatchObject({ ok: false, error: { code: 'agent-unavailable' } });
  });

  it('ignores malformed status messages and refuses a non-string command', async () => {
    const { bridge } = await loadPreload();
    const seen = vi.fn();
    bridge.onEvent(seen);
    fake.ipcRenderer.emit(CHANNELS.agentStatus, {}, { status: 'failed', notice: 'nope' });
    fake.ipcRenderer.emit(CHANNELS.agentStatus, {}, null);
    expect(seen).not.toHaveBeenCalled();
    await expect(bridge.request(42 as unknown as string, {})).resolves.toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});

describe('the port bridge queue', () => {
  it('times out a queued request with an explanation when no agent comes', async () => {
    vi.useFakeTimers();
    try {
      const { createPortBridge } = await import('../../../preload/port-bridge.js');
      const bridge = createPortBridge({ queueTimeoutMs: 1000 });
      const pending = bridge.api.request('agent.info', {});
      await vi.advanceTimersByTimeAsync(1000);
      await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'agent-unavailable', message: expect.stringContaining('starting or restarting') } });
    } finally {
      vi.useRealTimers();
    }
  });
});
