/**
 * The defects an attacker's web page could reach on 127.0.0.1, each against the real server:
 * malformed request targets (plain and upgrade), a token without the `offshift` subprotocol,
 * a client that does not read, a flood of requests, too many connections.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Handlers } from '../../../runtime/api/dispatcher.js';
import { EventBus } from '../../../runtime/api/events.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { SERVER_LIMITS, startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temp = makeTempHome();
const bus = new EventBus();
let server: RunningServer;
let token: string;

const handlers = new Proxy(
  { 'agent.state': async () => ({ state: 'available', reason: 'ok', detail: 'Available.', since: '2026-01-01T00:00:00.000Z' }) } as Record<string, unknown>,
  { get: (target, key) => target[key as string] ?? (async () => { throw new Error('unused'); }) },
) as Handlers;

/** Sends raw bytes and returns the status line's code (0 when the server closed without one). */
function raw(request: string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port }, () => s.write(request));
    let data = '';
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
  });
}
const upgradeHeaders = (extra = '') =>
  `Host: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

async function openClient(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, ['offshift', `token.${token}`]);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  return ws;
}
async function alive(): Promise<void> {
  expect(await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`)).toBe(200);
}

beforeAll(async () => {
  const staticDir = path.join(temp.home, 'www');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Offshift</title>');
  token = loadOrCreateToken(temp.home);
  server = await startWebSocketServer({ dispatch: createDispatcher(handlers), bus, token, port: 0, staticDir });
});
afterAll(async () => {
  await server.close();
  temp.cleanup();
});

const BAD_TARGETS = ['/%E0%A4%A', '/%', '/%zz', '/a%', '//[', '//@', 'http://[::1', '/%00', '/..%2f..%2fetc%2fpasswd'];

describe('hostile requests to the headless agent', () => {
  it.each(BAD_TARGETS)('a plain GET %s is answered, and the agent keeps serving', async (target) => {
    const status = await raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expect([400, 403, 200]).toContain(status);
    if (target.startsWith('/%') || target.startsWith('//') || target.startsWith('http')) expect(status).not.toBe(200);
    await alive();
  });

  it.each(BAD_TARGETS)('a WebSocket upgrade to %s is refused, and the agent keeps serving', async (target) => {
    const status = await raw(`GET ${target} HTTP/1.1\r\n${upgradeHeaders(`Sec-WebSocket-Protocol: offshift, token.${token}\r\n`)}`);
    expect([400, 404]).toContain(status);
    await alive();
  });

  it('an upgrade whose peer resets at once does not crash the agent', async () => {
    for (let i = 0; i < 20; i++) {
      const s = net.connect({ host: '127.0.0.1', port: server.port }, () => {
        s.write(`GET /api HTTP/1.1\r\n${upgradeHeaders(`Sec-WebSocket-Protocol: offshift, token.${token}\r\n`)}`);
        s.resetAndDestroy();
      });
      s.on('error', () => undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
    await alive();
  });

  it('refuses the token without the offshift subprotocol', async () => {
    expect(await raw(`GET /api HTTP/1.1\r\n${upgradeHeaders(`Sec-WebSocket-Protocol: token.${token}\r\n`)}`)).toBe(400);
    expect(await raw(`GET /api HTTP/1.1\r\n${upgradeHeaders(`Sec-WebSocket-Protocol: other, token.${token}\r\n`)}`)).toBe(400);
    expect(await raw(`GET /api HTTP/1.1\r\n${upgradeHeaders(`Sec-WebSocket-Protocol: offshift, token.${token}\r\n`)}`)).toBe(101);
  });

  it('drops a client that does not read its events instead of buffering without bound', async () => {
    await expect.poll(() => bus.size).toBe(0);
    const before = bus.size;
    const ws = await openClient();
    await expect.poll(() => bus.size).toBe(before + 1);
    (ws as unknown as { _socket: net.Socket })._socket.pause();
    const big = { level: 'info' as const, title: 'flood', message: 'x'.repeat(256 * 1024) };
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 400 && bus.size > before; i++) {
      bus.emit('notice', big);
      await new Promise((r) => setImmediate(r));
    }
    // 400 × 256 KiB = 100 MiB offered; the server gave up on the client after ~8 MiB queued.
    expect(bus.size).toBe(before);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024);
    ws.terminate();
    await alive();
  });

  it('answers a flood of requests with rate-limited errors and keeps serving the connection', async () => {
    const ws = await openClient();
    const replies: { ok: boolean; error?: { code: string } }[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'response') replies.push(m);
    });
    for (let i = 0; i < 3000; i++) ws.send(JSON.stringify({ type: 'request', id: i, command: 'agent.state' }));
    await expect.poll(() => replies.length, { timeout: 10_000 }).toBe(3000);
    const codes = new Set(replies.filter((r) => !r.ok).map((r) => r.error!.code));
    // The burst (400) is served, queued 16 at a time; beyond it the flood is answered, not queued.
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(270);
    expect([...codes].every((c) => c === 'rate-limited' || c === 'busy')).toBe(true);
    expect(codes.size).toBeGreaterThan(0);
    ws.close();
  });

  it(`refuses more than ${SERVER_LIMITS.maxConnections} WebSocket connections with 503, and accepts again when one closes`, async () => {
    await expect.poll(() => bus.size).toBe(0);
    const open: WebSocket[] = [];
    for (let i = 0; i < SERVER_LIMITS.maxConnections; i++) open.push(await openClient());
    await expect(openClient()).rejects.toThrow(/503/);
    open.pop()!.close();
    // The slot frees once the close handshake ends: retry for a while (a loaded CI machine).
    let reopened: WebSocket | null = null;
    for (let i = 0; i < 50 && !reopened; i++) reopened = await openClient().catch(() => new Promise<null>((r) => setTimeout(() => r(null), 100)));
    expect(reopened).not.toBeNull();
    open.push(reopened!);
    for (const ws of open) ws.terminate();
    await alive();
  });

  it('closes a connection that sends a frame over the size cap, and the agent keeps serving', async () => {
    const ws = await openClient();
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send('x'.repeat(SERVER_LIMITS.maxPayload + 1));
    expect(await closed).toBe(1009);
    await alive();
  });
});
