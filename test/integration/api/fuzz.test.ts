/**
 * Fuzzing the API over its real transports: a real agent (createAgent, its real handlers, the
 * real database, Docker and a wallet) behind its real HTTP/WebSocket server, fed at least
 * 10,000 generated hostile inputs (seeded; FUZZ_SEED=<n> replays a run): WebSocket requests
 * with wrong types, huge and deeply nested inputs and prototype-pollution keys, raw text,
 * binary and invalid UTF-8 frames, floods; raw HTTP requests with bad targets, encodings,
 * methods, Hosts, Origins and upgrade headers. Zero crashes, zero hangs (every request is
 * answered or refused in time), and no secret (the token, the wallet's key, mnemonic or
 * keystore, its password) nor any file's content in any reply.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { commands } from '../../../runtime/api/contract.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { silentLogger } from '../../../runtime/log.js';
import { createKeystore, keystorePath } from '../../../runtime/wallet/keystore.js';
import { deepValueText, fuzzSeed, hostileString, hostileValue, objectFrom, PROTO_KEYS } from '../../helpers/hostile.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const WS_INPUTS = 7000;
const HTTP_INPUTS = 3000;
const CONNECTIONS = 6;
const REPLY_TIMEOUT_MS = 10_000;
const PASSWORD = 'fuzz-password-9f3c1e';
const FILE_MARKER = 'file-content-7d1a9b0c-must-never-be-served';

const temp = makeTempHome('offshift-fuzz-');
const home = path.join(temp.home, 'data');
let agent: Agent;
let server: RunningServer;
let token: string;
let secrets: string[];
const stats = { wsInputs: 0, httpInputs: 0, replies: 0, closedByServer: 0, rateLimited: 0, unfinished: 0, leaks: [] as string[] };

function scan(where: string, text: string): void {
  for (const secret of secrets) if (text.includes(secret)) stats.leaks.push(`${where}: ${secret.slice(0, 12)}…`);
}

beforeAll(async () => {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const www = path.join(temp.home, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>Offshift</title>');
  fs.writeFileSync(path.join(temp.home, 'secret.txt'), FILE_MARKER);
  fs.writeFileSync(path.join(home, 'notes.txt'), FILE_MARKER);
  const { wallet, mnemonic } = await createKeystore(home, PASSWORD, { scryptN: 1024 });
  const keystore = JSON.parse(fs.readFileSync(keystorePath(home), 'utf8')) as { crypto?: { ciphertext?: string }; Crypto?: { ciphertext?: string } };
  token = loadOrCreateToken(home);
  const privateKey = (wallet as unknown as { privateKey: string }).privateKey;
  secrets = [token, privateKey.slice(2), mnemonic, (keystore.crypto ?? keystore.Crypto)!.ciphertext!, PASSWORD, FILE_MARKER];
  agent = createAgent({ home, env: { PATH: process.env.PATH, HOME: temp.home, OFFSHIFT_HOME: home, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' }, log: silentLogger, telemetryIntervalMs: 1000 });
  await agent.start();
  server = await startWebSocketServer({ dispatch: agent.dispatch, bus: agent.bus, token, port: 0, staticDir: www });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await agent?.stop();
  temp.cleanup();
});

// ── WebSocket ──────────────────────────────────────────────────────────────────────────────
const COMMANDS = Object.keys(commands);
type WsInput =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'bad-utf8'; bytes: Uint8Array }
  | { kind: 'flood'; count: number; command: string };

const requestText = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: hostileString }),
    // {} is valid for many commands: those reach the handlers themselves.
    fc.oneof({ weight: 4, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant({}) }),
    fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 60)),
  )
  .map(([command, input, id]) => JSON.stringify(objectFrom([['type', 'request'], ['id', id], ['command', command], ['input', input]])));
const pollution = fc
  .tuple(fc.constantFrom(...COMMANDS), fc.constantFrom(...PROTO_KEYS))
  .map(([command, key]) => `{"type":"request","id":1,"command":${JSON.stringify(command)},"input":{${JSON.stringify(key)}:{"polluted":true,"isAdmin":true}}}`);
// Weights out of 100: floods are few (each is hundreds of requests) but each overruns the limits.
const wsInput: fc.Arbitrary<WsInput> = fc.oneof(
  { weight: 55, arbitrary: requestText.map((text) => ({ kind: 'text' as const, text })) },
  { weight: 10, arbitrary: pollution.map((text) => ({ kind: 'text' as const, text })) },
  { weight: 10, arbitrary: hostileValue.map((v) => ({ kind: 'text' as const, text: JSON.stringify(v) ?? 'undefined' })) },
  { weight: 10, arbitrary: hostileString.map((text) => ({ kind: 'text' as const, text })) },
  { weight: 5, arbitrary: deepValueText.map((d) => ({ kind: 'text' as const, text: `{"type":"request","id":2,"command":"jobs.run","input":${d}}` })) },
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'binary' as const, bytes })) },
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 50 }).map((b) => ({ kind: 'bad-utf8' as const, bytes: Uint8Array.from([...b, 0xc3, 0x28, 0xff]) })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 700 }), fc.constantFrom(...COMMANDS)).map(([count, command]) => ({ kind: 'flood' as const, count, command })) },
);

class Conn {
  private ws!: WebSocket;
  private waiters: ((m: unknown) => void)[] = [];
  private closed: (() => void) | null = null;
  async open(): Promise<void> {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, ['offshift', `token.${token}`]);
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => {
      const text = data.toString();
      scan('ws', text);
      let m: { type?: string; error?: { code?: string } };
      try {
        m = JSON.parse(text);
      } catch {
        stats.leaks.push(`a reply that is not JSON: ${text.slice(0, 80)}`);
        return;
      }
      if (m.type !== 'response') return;
      stats.replies++;
      if (m.error?.code === 'rate-limited' || m.error?.code === 'busy') stats.rateLimited++;
      this.waiters.shift()?.(m);
    });
    this.ws.on('close', () => {
      this.closed?.();
      for (const w of this.waiters.splice(0)) w(null);
    });
    await new Promise((resolve, reject) => (this.ws.once('open', resolve), this.ws.once('unexpected-response', (_q, r) => reject(new Error(`upgrade refused: ${r.statusCode}`)))));
  }
  /** Sends and waits for `replies` responses, or the server closing the connection. */
  private exchange(send: () => void, replies: number): Promise<'answered' | 'closed'> {
    return new Promise((resolve, reject) => {
      let got = 0;
      const timer = setTimeout(() => reject(new Error(`no answer within ${REPLY_TIMEOUT_MS} ms (a hang)`)), REPLY_TIMEOUT_MS);
      this.closed = () => {
        clearTimeout(timer);
        resolve('closed');
      };
      for (let i = 0; i < replies; i++) this.waiters.push((m) => {
        if (m !== null && ++got === replies) {
          clearTimeout(timer);
          resolve('answered');
        }
      });
      send();
    });
  }
  async run(input: WsInput): Promise<void> {
    let outcome: 'answered' | 'closed';
    if (input.kind === 'text') outcome = await this.exchange(() => this.ws.send(input.text), 1);
    else if (input.kind === 'binary') outcome = await this.exchange(() => this.ws.send(input.bytes, { binary: true }), 1);
    else if (input.kind === 'bad-utf8') outcome = await this.exchange(() => this.ws.send(input.bytes, { binary: false }), 1);
    else {
      const msg = (i: number) => JSON.stringify({ type: 'request', id: i, command: input.command, input: {} });
      outcome = await this.exchange(() => {
        for (let i = 0; i < input.count; i++) this.ws.send(msg(i));
      }, input.count);
    }
    if (outcome === 'closed') {
      // The server closes a connection that breaks the protocol (invalid UTF-8: 1007): that is an answer too.
      stats.closedByServer++;
      this.waiters = [];
      await this.open();
    }
  }
  close(): void {
    this.ws.terminate();
  }
}

// ── HTTP ───────────────────────────────────────────────────────────────────────────────────
const target = fc.oneof(
  fc.constantFrom('/', '/api', '/index.html', '/%E0%A4%A', '/%', '/%zz', '/a%', '//[', '//@', 'http://[::1', '/..%2f..%2fsecret.txt', '/../secret.txt', '/%2e%2e/%2e%2e/secret.txt', '/..\\..\\secret.txt', '/data/notes.txt', '/%2e%2e%2fdata%2fnotes.txt', '*', '/api?x=%ff', '/%00'),
  fc.array(fc.oneof(fc.constantFrom('..', '%2e%2e', '%2f', '%5c', '%00', '%', '%E0', 'secret.txt', 'data', 'notes.txt', 'api'), fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/)), { maxLength: 8 }).map((parts) => '/' + parts.join('/')),
  fc.integer({ min: 100, max: 12_000 }).map((n) => '/' + 'a'.repeat(n)),
);
const hostHeader = fc.oneof(fc.constant('VALID'), fc.constantFrom('evil.example', 'localhost', '127.0.0.1', '127.0.0.1:1', '[::1]', ''), fc.stringMatching(/^[ -~]{0,30}$/), fc.constant(null));
const httpInput = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PRI'), fc.stringMatching(/^[A-Z]{1,10}$/)),
  target,
  host: hostHeader,
  origin: fc.option(fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1:1', 'VALID'), { nil: undefined }),
  upgrade: fc.boolean(),
  protocol: fc.option(fc.oneof(fc.constantFrom('offshift', 'TOKEN', 'offshift, TOKEN', 'offshift, token.' + 'f'.repeat(64), 'offshift, token.', 'token.TOKEN'), hostileString.map((s) => s.replace(/[\r\n]/g, ''))), { nil: undefined }),
  garbage: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined, freq: 8 }),
  body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
});
type HttpInput = typeof httpInput extends fc.Arbitrary<infer T> ? T : never;

function httpRequest(i: HttpInput): Buffer {
  if (i.garbage) return Buffer.concat([Buffer.from(i.garbage), Buffer.from('\r\n\r\n')]);
  const sub = (s: string) => s.replace('TOKEN', `token.${token}`).replace('VALID', `127.0.0.1:${server.port}`);
  const lines = [`${i.method} ${i.target} HTTP/1.1`];
  if (i.host !== null) lines.push(`Host: ${sub(i.host)}`);
  if (i.origin) lines.push(`Origin: ${i.origin === 'VALID' ? `http://127.0.0.1:${server.port}` : i.origin}`);
  if (i.upgrade) lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  else lines.push('Connection: close');
  if (i.protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${sub(i.protocol)}`);
  if (i.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(i.body)}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + (i.body ?? ''), 'latin1');
}

/**
 * Sends one request and reads the answer. Garbage may be an unfinished request that the server
 * rightly waits on (until its header timeout): after a moment the client gives up, and the
 * agent must still answer everyone else at once.
 */
async function sendHttp(i: HttpInput): Promise<void> {
  const answered = await sendRaw(httpRequest(i), i.garbage ? 1500 : REPLY_TIMEOUT_MS);
  if (!answered) {
    if (!i.garbage) throw new Error(`no HTTP answer within ${REPLY_TIMEOUT_MS} ms (a hang)`);
    stats.unfinished++;
    const probe = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    if (!(await sendRaw(probe, REPLY_TIMEOUT_MS))) throw new Error('the agent stopped answering while a client held an unfinished request');
  }
}

function sendRaw(request: Buffer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port }, () => socket.write(request));
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d) => {
      chunks.push(d);
      // A 101 keeps the socket open: the answer is in, so hang up.
      if (Buffer.concat(chunks).includes('\r\n\r\n') && Buffer.concat(chunks).subarray(0, 12).toString().includes(' 101')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      scan('http', text);
      if (!/^HTTP\/1\.1 \d{3}/.test(text) && text !== '') stats.leaks.push(`not an HTTP answer: ${text.slice(0, 60)}`);
      resolve(!timedOut || text !== '');
    });
  });
}

async function alive(): Promise<void> {
  const c = new Conn();
  await c.open();
  await c.run({ kind: 'text', text: JSON.stringify({ type: 'request', id: 1, command: 'agent.info', input: {} }) });
  c.close();
}

describe('fuzzing the API over its real transports', () => {
  it(`${WS_INPUTS} WebSocket and ${HTTP_INPUTS} HTTP hostile inputs: no crash, no hang, no secret in any reply`, async () => {
    const seed = fuzzSeed('api');
    const t0 = performance.now();
    const rssBefore = process.memoryUsage().rss;
    const wsInputs = fc.sample(wsInput, { seed, numRuns: WS_INPUTS });
    const tWs = performance.now();
    const httpInputs = fc.sample(httpInput, { seed: seed + 1, numRuns: HTTP_INPUTS });
    const fail = (what: string, index: number, input: unknown, error: unknown) =>
      new Error(`${what} input #${index} of seed ${seed} (replay: FUZZ_SEED=${seed}) failed: ${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'string' && v.length > 200 ? `${v.slice(0, 60)}…<${v.length} chars>` : v))?.slice(0, 600)}`, { cause: error });

    // WebSocket: CONNECTIONS clients, each taking the next input when its last is answered.
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const conn = new Conn();
        await conn.open();
        for (let i = next++; i < wsInputs.length; i = next++) {
          try {
            await conn.run(wsInputs[i]!);
          } catch (error) {
            throw fail('WebSocket', i, wsInputs[i], error);
          }
          stats.wsInputs++;
        }
        conn.close();
      }),
    );
    console.log(`api fuzz: WebSocket part ${((performance.now() - tWs) / 1000).toFixed(1)} s`);
    // HTTP: 8 at a time.
    let nextHttp = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = nextHttp++; i < httpInputs.length; i = nextHttp++) {
          try {
            await sendHttp(httpInputs[i]!);
          } catch (error) {
            throw fail('HTTP', i, httpInputs[i], error);
          }
          stats.httpInputs++;
        }
      }),
    );
    await alive();
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const rssGrowthMiB = Math.round((process.memoryUsage().rss - rssBefore) / 1024 / 1024);
    console.log(
      `api fuzz: ${stats.wsInputs + stats.httpInputs} inputs (${stats.wsInputs} WebSocket, ${stats.httpInputs} HTTP) in ${seconds} s; ` +
        `${stats.replies} replies (${stats.rateLimited} rate-limited/busy), ${stats.closedByServer} connections closed by the server for protocol errors, ${stats.unfinished} unfinished requests held while others were served; ` +
        `0 crashes, 0 hangs, ${stats.leaks.length} secrets leaked; rss +${rssGrowthMiB} MiB`,
    );
    expect(stats.leaks).toEqual([]);
    expect(stats.wsInputs + stats.httpInputs).toBeGreaterThanOrEqual(10_000);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await agent.client().call('agent.state')).state).toBeDefined();
  }, 180_000);
});
