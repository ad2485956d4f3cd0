/**
 * A slow-loris against the dashboard's server (any web page the owner visits could try it):
 * more sockets than the server will hold, each sending one byte of its headers a second and
 * reopened as soon as it is closed. Real sockets on 127.0.0.1, bounded in count and time. The
 * owner's client (the token, a WebSocket) and the dashboard's page must still be answered
 * promptly while the flood is held.
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
/** The dashboard's script is a few hundred KiB; a slow reader makes its answer take a while. */
const BUNDLE_BYTES = 8 * 1024 * 1024;
const bus = new EventBus();
let server: RunningServer;
let token: string;

const handlers = new Proxy(
  { 'agent.state': async () => ({ state: 'available', reason: 'ok', detail: 'Available.', since: '2026-01-01T00:00:00.000Z' }) } as Record<string, unknown>,
  { get: (target, key) => target[key as string] ?? (async () => { throw new Error('unused'); }) },
) as Handlers;

beforeAll(async () => {
  const staticDir = path.join(temp.home, 'www');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Offshift</title>');
  fs.writeFileSync(path.join(staticDir, 'bundle.js'), Buffer.alloc(BUNDLE_BYTES, 0x61));
  token = loadOrCreateToken(temp.home);
  server = await startWebSocketServer({ dispatch: createDispatcher(handlers), bus, token, port: 0, staticDir });
});
afterAll(async () => {
  await server.close();
  temp.cleanup();
});

/** `count` slow sockets, each reopened when closed, until stop(). */
function slowLoris(port: number, count: number) {
  let stopped = false;
  const live = new Set<net.Socket>();
  let opened = 0;
  let established = 0;
  const header = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'a'.repeat(4000)}`);
  const open = () => {
    if (stopped) return;
    opened++;
    const s = net.connect({ host: '127.0.0.1', port });
    live.add(s);
    let at = 0;
    let timer: NodeJS.Timeout | null = null;
    s.on('connect', () => {
      established++;
      const drip = () => {
        if (at < header.length) s.write(header.subarray(at, ++at));
        timer = setTimeout(drip, 1000);
      };
      drip();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (timer) clearTimeout(timer);
      live.delete(s);
      // Reopened at once, as the attacker would; a short pause only when refused outright,
      // so that a test machine's CPU stays with the client under test.
      setTimeout(open, at === 0 ? 5 : 0);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    get opened() {
      return opened;
    },
    get established() {
      return established;
    },
    get live() {
      return live.size;
    },
    stop() {
      stopped = true;
      for (const s of live) s.destroy();
    },
  };
}

async function openOwnerSocket(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, ['offshift', `token.${token}`]);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject), ws.once('close', () => reject(new Error('closed before open')))));
  return ws;
}

let nextId = 1;
function askState(ws: WebSocket): Promise<string> {
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as { type: string; id?: number; result: { state: string } };
      if (m.type !== 'response' || m.id !== id) return;
      ws.off('message', onMessage);
      resolve(m.result.state);
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('closed before the answer')));
    ws.send(JSON.stringify({ type: 'request', id, command: 'agent.state', input: {} }));
  });
}

/** The owner's client: a new WebSocket with the token, one command; its answer and how long it took. */
async function ownerRequest(port: number): Promise<{ ms: number; state: string }> {
  const started = Date.now();
  const ws = await openOwnerSocket(port);
  try {
    const state = await askState(ws);
    return { ms: Date.now() - started, state };
  } finally {
    ws.terminate();
  }
}

/**
 * A file of the dashboard, as the browser asks for it: its status, the body's length and how
 * long it took. `readEveryMs` reads the answer in pieces (a busy browser), so it is in flight a while.
 */
function pageRequest(port: number, file = '/', readEveryMs = 0): Promise<{ ms: number; status: number; bodyBytes: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`GET ${file} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (readEveryMs) {
        s.pause();
        setTimeout(() => s.resume(), readEveryMs);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const head = all.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(all.toString('latin1', 0, 20))?.[1] ?? 0);
      const chunked = head >= 0 && /\r\ntransfer-encoding: chunked\r\n/i.test(all.toString('latin1', 0, head + 2));
      const body = head < 0 ? Buffer.alloc(0) : all.subarray(head + 4);
      resolve({ ms: Date.now() - started, status, bodyBytes: chunked ? dechunkedLength(body) : body.length });
    });
  });
}

/** The length of a chunked body, or -1 when it was cut before its last chunk. */
function dechunkedLength(body: Buffer): number {
  let at = 0;
  let total = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const size = parseInt(body.toString('latin1', at, eol), 16);
    if (Number.isNaN(size)) return -1;
    if (size === 0) return total;
    if (eol + 2 + size + 2 > body.length) return -1;
    total += size;
    at = eol + 2 + size + 2;
  }
}

describe('a slow-loris flood of the dashboard', () => {
  it(`answers the owner promptly while ${SERVER_LIMITS.maxUnauthenticatedSockets + 32} slow sockets are held and reopened`, async () => {
    const count = SERVER_LIMITS.maxUnauthenticatedSockets + 32;
    // A dashboard that was open before the flood keeps its connection through it.
    const standing = await openOwnerSocket(server.port);
    const flood = slowLoris(server.port, count);
    try {
      // The flood is in place: every slot a socket without the token may take is taken.
      await expect.poll(() => flood.established, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
      await new Promise((r) => setTimeout(r, 1500));
      const owner: number[] = [];
      const page: number[] = [];
      for (let round = 0; round < 4; round++) {
        const answer = await ownerRequest(server.port);
        expect(answer.state).toBe('available');
        owner.push(answer.ms);
        const p = await pageRequest(server.port);
        expect(p.status).toBe(200);
        page.push(p.ms);
        await new Promise((r) => setTimeout(r, 500));
      }
      console.log(`slow-loris: ${count} sockets held, ${flood.opened} opened in all; owner's answers in ${owner.join(', ')} ms, the page in ${page.join(', ')} ms`);
      expect(Math.max(...owner)).toBeLessThan(2000);
      expect(Math.max(...page)).toBeLessThan(2000);
      expect(await askState(standing)).toBe('available');
      // A page's script still in flight (read slowly, about a second) is not cut off by the flood.
      const bundle = await pageRequest(server.port, '/bundle.js', 2);
      expect(bundle).toMatchObject({ status: 200, bodyBytes: BUNDLE_BYTES });
    } finally {
      standing.terminate();
      flood.stop();
    }
    // The flood is bounded in time: it ended, and the server is as before.
    expect((await ownerRequest(server.port)).state).toBe('available');
  }, 60_000);
});
