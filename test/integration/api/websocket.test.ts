import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../runtime/api/client.js';
import { createDispatcher, type Handlers } from '../../../runtime/api/dispatcher.js';
import { EventBus } from '../../../runtime/api/events.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temp = makeTempHome();
const bus = new EventBus();
let server: RunningServer;
let token: string;

const handlers = new Proxy(
  {
    'agent.state': async () => ({ state: 'available', reason: 'ok', detail: 'Available: waiting for work.', since: '2026-01-01T00:00:00.000Z' }),
  } as Record<string, unknown>,
  { get: (target, key) => target[key as string] ?? (async () => { throw new Error('unused'); }) },
) as Handlers;

function rawUpgrade(headers: Record<string, string>, pathName = '/api'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathName, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const staticDir = path.join(temp.home, 'www');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Offshift</title>');
  fs.writeFileSync(path.join(temp.home, 'secret.txt'), 'not for the web');
  token = loadOrCreateToken(temp.home);
  server = await startWebSocketServer({ dispatch: createDispatcher(handlers), bus, token, port: 0, staticDir });
});

afterAll(async () => {
  await server.close();
  temp.cleanup();
});

describe('the headless agent WebSocket transport', () => {
  it('keeps a random token in the data folder readable only by its owner', () => {
    const stat = fs.statSync(path.join(temp.home, 'api-token'));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(loadOrCreateToken(temp.home)).toBe(token);
  });

  it('listens on 127.0.0.1 only: not on other loopback addresses, not on ::1, not on any external interface', async () => {
    const reachable = (host: string) =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host, port: server.port }, () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
    expect(await reachable('127.0.0.1')).toBe(true); // the probe itself works
    const external = Object.values((await import('node:os')).networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => a!.address.split('%')[0]!);
    // 127.0.0.2 and ::1 exist on every Linux host, so this never passes vacuously.
    const candidates = ['127.0.0.2', '::1', ...external];
    for (const host of candidates) expect(await reachable(host), `reachable on ${host}`).toBe(false);
    expect(candidates.length).toBeGreaterThanOrEqual(2);
  });

  it('answers commands and pushes events to a client with the token', async () => {
    const client = createClient(await connectWebSocket(server.port, token));
    expect((await client.call('agent.state')).state).toBe('available');
    const got = new Promise((resolve) => client.on('notice', resolve));
    bus.emit('notice', { level: 'info', title: 'Hello', message: 'from the agent' });
    expect(await got).toEqual({ level: 'info', title: 'Hello', message: 'from the agent' });
    await expect(client.call('gpu.list', { bogus: 1 } as never)).rejects.toMatchObject({ code: 'invalid-input' });
    client.close();
  });

  it('refuses a connection without the token or with a wrong one', async () => {
    expect(await rawUpgrade({ Host: `127.0.0.1:${server.port}`, 'Sec-WebSocket-Protocol': 'offshift' })).toBe(401);
    await expect(connectWebSocket(server.port, 'f'.repeat(64))).rejects.toThrow(/401/);
  });

  it('refuses a page from another origin and a foreign Host (DNS rebinding)', async () => {
    const proto = `offshift, token.${token}`;
    expect(await rawUpgrade({ Host: `127.0.0.1:${server.port}`, Origin: 'https://evil.example', 'Sec-WebSocket-Protocol': proto })).toBe(403);
    expect(await rawUpgrade({ Host: `evil.example:${server.port}`, 'Sec-WebSocket-Protocol': proto })).toBe(403);
    expect(await rawUpgrade({ Host: `127.0.0.1:${server.port}`, Origin: `http://127.0.0.1:${server.port}`, 'Sec-WebSocket-Protocol': proto })).toBe(101);
  });

  it('answers a malformed message with an error and keeps serving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, ['offshift', `token.${token}`]);
    await new Promise((resolve) => ws.once('open', resolve));
    const replies: unknown[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    ws.send('{not json');
    ws.send(JSON.stringify({ type: 'request', id: 9, command: 'agent.state' }));
    await expect.poll(() => replies.length).toBe(2);
    expect(replies[0]).toMatchObject({ ok: false, error: { code: 'bad-message' } });
    expect(replies[1]).toMatchObject({ id: 9, ok: true });
    ws.close();
  });

  it('serves the dashboard with a strict CSP and nothing outside its folder', async () => {
    const get = (p: string) =>
      new Promise<{ status: number; csp: string | undefined; body: string }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: server.port, path: p }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, csp: res.headers['content-security-policy'] as string | undefined, body }));
        }).on('error', reject);
      });
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('Offshift');
    expect(index.csp).toContain("script-src 'self'");
    const escape = await get('/..%2fsecret.txt');
    expect(escape.body).not.toContain('not for the web');
  });
});
