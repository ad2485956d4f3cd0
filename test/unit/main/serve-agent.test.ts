import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveAgent, type AgentPortLike, type ServedAgent } from '../../../main/agent/serve-agent.js';
import { homeFromArgv } from '../../../main/agent/messages.js';
import { EventBus } from '../../../runtime/api/events.js';
import { socketTransport } from '../../../runtime/api/transports/socket-client.js';

/** Electron's MessagePortMain has `on('message', ({ data }) => …)`; wrap a worker_threads port so. */
function asPortMain(port: MessagePort): AgentPortLike {
  return {
    on(event: 'message' | 'close', listener: (e: { data: unknown }) => void) {
      if (event === 'message') port.on('message', (data) => listener({ data }));
      else port.on('close', () => (listener as () => void)());
      return this;
    },
    start: () => port.start(),
    postMessage: (m) => port.postMessage(m),
    close: () => port.close(),
  } as AgentPortLike;
}

function fakeAgent(): ServedAgent & { stop: ReturnType<typeof vi.fn> } {
  const bus = new EventBus();
  return {
    bus,
    dispatch: async (command) => ({ ok: true, result: { command } }),
    state: { value: { state: 'starting', reason: 'starting', detail: 'Starting…', since: '2026-01-01T00:00:00.000Z' } },
    stop: vi.fn(async () => {}),
  };
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

describe('serveAgent (the utilityProcess side)', () => {
  it('serves each port main hands over with the real wire protocol, and reports state to main', async () => {
    const parentPort = Object.assign(new EventEmitter(), { postMessage: vi.fn() });
    const agent = fakeAgent();
    const served = serveAgent({ parentPort, agent, exit: vi.fn() });
    expect(parentPort.postMessage).toHaveBeenCalledWith({ type: 'state', state: agent.state.value });

    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    parentPort.emit('message', { data: { type: 'connect', connectionId: 1 }, ports: [asPortMain(port1)] });
    expect(served.connections()).toBe(1);

    const client = socketTransport({
      send: (d) => port2.postMessage(d),
      onMessage: (l) => port2.on('message', (d) => l(String(d))),
      onClose: (l) => port2.on('close', () => l('closed')),
      close: () => port2.close(),
    });
    await expect(client.request('gpu.list', {})).resolves.toEqual({ ok: true, result: { command: 'gpu.list' } });

    const events: string[] = [];
    client.onEvent((e) => events.push(e));
    const state = { state: 'available' as const, reason: 'ok', detail: 'Available', since: '2026-01-01T00:00:01.000Z' };
    agent.bus.emit('agent.state', state);
    await vi.waitFor(() => expect(events).toEqual(['agent.state']));
    expect(parentPort.postMessage).toHaveBeenLastCalledWith({ type: 'state', state });

    port2.close();
    await vi.waitFor(() => expect(served.connections()).toBe(0));
  });

  it('ignores malformed messages and stops the agent on shutdown', async () => {
    const parentPort = Object.assign(new EventEmitter(), { postMessage: vi.fn() });
    const agent = fakeAgent();
    const exit = vi.fn();
    const warn = vi.fn();
    serveAgent({ parentPort, agent, exit, warn });
    parentPort.emit('message', { data: { type: 'nonsense' }, ports: [] });
    parentPort.emit('message', { data: { type: 'connect', connectionId: 2 }, ports: [] });
    expect(warn).toHaveBeenCalledTimes(2);
    parentPort.emit('message', { data: { type: 'shutdown' }, ports: [] });
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
    expect(agent.stop).toHaveBeenCalledOnce();
  });

  it("passes main's input idle readings to the agent, refusing malformed ones", () => {
    const parentPort = Object.assign(new EventEmitter(), { postMessage: vi.fn() });
    const onIdle = vi.fn();
    const warn = vi.fn();
    serveAgent({ parentPort, agent: fakeAgent(), exit: vi.fn(), warn, onIdle });
    parentPort.emit('message', { data: { type: 'idle', seconds: 312 }, ports: [] });
    parentPort.emit('message', { data: { type: 'idle', seconds: -1 }, ports: [] });
    parentPort.emit('message', { data: { type: 'idle', seconds: 'a while' }, ports: [] });
    expect(onIdle.mock.calls).toEqual([[312]]);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('reads the data folder from its argv', () => {
    expect(homeFromArgv(['node', 'x.js', '--offshift-home=/data/o'])).toBe('/data/o');
    expect(homeFromArgv(['node', 'x.js'])).toBeNull();
  });
});
