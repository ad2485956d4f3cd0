/**
 * A marketplace job's inputs, fetched from real local servers (https with a certificate made
 * here by openssl, and plain http), with the name resolution injected: the connection goes to
 * the address that was checked, never to a second answer (DNS rebinding), and every refusal says
 * why. A decoy server on 127.0.0.1 (the same port) counts every connection a second resolution
 * would have sent it.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchInputs, type InputRef, type ResolvedAddress, type Resolver } from '../../../runtime/market/inputs.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasOpenssl) console.warn('[inputs] skipped: openssl is missing (it makes the local https server\'s certificate)');

const DATA = crypto.randomBytes(64 * 1024);
const SHA = crypto.createHash('sha256').update(DATA).digest('hex');
const PUBLIC = '93.184.215.14'; // a public address (example.com's): passes the check, serves nothing of ours

/** A resolver that answers `first` once, then `after` to every later question; it counts them. */
function rebinding(first: string[], after: string[]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const answer = (list: string[]): ResolvedAddress[] => list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  return Object.assign(async (host: string) => {
    calls.push(host);
    return answer(calls.length === 1 ? first : after);
  }, { calls });
}

describe.skipIf(!hasOpenssl)('marketplace inputs', () => {
  let dir: string;
  let ca: Buffer;
  let real: https.Server; // 127.0.0.3:port, the input
  let decoy: https.Server; // 127.0.0.1:port, where a second resolution would go
  let plain: http.Server;
  let port = 0;
  let plainPort = 0;
  const seen = { real: 0, decoy: 0 };

  const handler = (label: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/data') res.end(label === 'real' ? DATA : Buffer.from('decoy'));
    else if (req.url === '/redirect') res.writeHead(302, { location: `https://localhost:${port}/data` }).end();
    else if (req.url === '/big') res.end(Buffer.alloc(DATA.length + 1));
    else if (req.url === '/silent') req.socket.setTimeout(0); // never answers
    else res.writeHead(404).end();
  };

  beforeAll(async () => {
    dir = makeTempDir('offshift-inputs-');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,DNS:inputs.example', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
    const tls = { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
    ca = tls.cert;
    real = https.createServer(tls, handler('real'));
    real.on('connection', () => seen.real++);
    await new Promise<void>((r) => real.listen(0, '127.0.0.3', r));
    port = (real.address() as net.AddressInfo).port;
    decoy = https.createServer(tls, handler('decoy'));
    decoy.on('connection', () => seen.decoy++);
    await new Promise<void>((r) => decoy.listen(port, '127.0.0.1', r));
    plain = http.createServer(handler('real'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainPort = (plain.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    for (const s of [real, decoy, plain]) s?.closeAllConnections();
    for (const s of [real, decoy, plain]) s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const input = (url: string, more: Partial<InputRef> = {}): InputRef => ({ url, sha256: SHA, path: 'data.bin', sizeBytes: DATA.length, ...more });

  it('connects to the address it checked, with the host name for TLS: a later answer (the decoy) is never used', async () => {
    const before = { ...seen };
    const resolve = rebinding(['127.0.0.3'], ['127.0.0.1']);
    const got = await fetchInputs([input(`https://localhost:${port}/data`)], { allowLoopback: true, resolve, ca });
    expect(Buffer.from(got['data.bin']!).equals(DATA)).toBe(true);
    expect(resolve.calls).toEqual(['localhost']);
    expect(seen.real).toBe(before.real + 1);
    expect(seen.decoy).toBe(before.decoy);
  });

  it('DNS rebinding: a public answer to the check and 127.0.0.1 afterwards never reaches this computer', async () => {
    const before = seen.decoy;
    const resolve = rebinding([PUBLIC], ['127.0.0.1']);
    for (const allowLoopback of [false, true]) {
      await expect(fetchInputs([input(`https://inputs.example:${port}/data`)], { allowLoopback, resolve, ca, timeoutMs: 1500 })).rejects.toMatchObject({ code: expect.stringMatching(/^input-(unreachable|refused)$/) });
    }
    expect(resolve.calls).toEqual(['inputs.example', 'inputs.example']); // once per fetch: the second answer of each is never asked for
    expect(seen.decoy).toBe(before);
  });

  it('refuses a name that resolves to loopback, cloud metadata, the LAN or this machine, if any one of its addresses does', async () => {
    const before = seen.decoy;
    for (const answer of [['127.0.0.1'], ['169.254.169.254'], [PUBLIC, '10.0.0.7'], ['::1'], ['::ffff:127.0.0.1']]) {
      const resolve = rebinding(answer, answer);
      await expect(fetchInputs([input(`https://inputs.example:${port}/data`)], { allowLoopback: true, resolve, ca }), answer.join()).rejects.toMatchObject({ code: 'input-refused', message: expect.stringMatching(/is refused: .*(private, loopback|address of this machine)/) });
    }
    await expect(fetchInputs([input(`https://inputs.example:${port}/data`)], { allowLoopback: false, resolve: async () => [], ca })).rejects.toThrow(/does not resolve/);
    // A loopback name that resolves elsewhere is not this computer.
    await expect(fetchInputs([input(`https://localhost:${port}/data`)], { allowLoopback: true, resolve: rebinding(['127.0.0.3', PUBLIC], []), ca })).rejects.toThrow(/resolves to 93\.184\.215\.14, not to this computer/);
    expect(seen.decoy).toBe(before);
  });

  it('keeps its other rules: https only, this computer only when allowed, no redirects, the size cap, the sha256, the time limit', async () => {
    const local = rebinding(['127.0.0.3'], ['127.0.0.3']);
    await expect(fetchInputs([input(`http://inputs.example/data`)], { allowLoopback: true, resolve: local })).rejects.toThrow(/is not fetched over https/);
    await expect(fetchInputs([input(`https://localhost:${port}/data`)], { allowLoopback: false, resolve: local, ca })).rejects.toThrow(/points to this computer/);
    await expect(fetchInputs([input(`https://localhost:${port}/redirect`)], { allowLoopback: true, resolve: local, ca })).rejects.toThrow(/redirects \(HTTP 302\), and redirects are not followed/);
    await expect(fetchInputs([input(`https://localhost:${port}/big`)], { allowLoopback: true, resolve: local, ca })).rejects.toThrow(/larger than the 65536 bytes the offer named/);
    await expect(fetchInputs([input(`https://localhost:${port}/data`, { sha256: '0'.repeat(64) })], { allowLoopback: true, resolve: local, ca })).rejects.toThrow(/does not match its sha256/);
    await expect(fetchInputs([input(`https://localhost:${port}/missing`)], { allowLoopback: true, resolve: local, ca })).rejects.toThrow(/could not be fetched \(HTTP 404\)/);
    await expect(fetchInputs([input(`https://localhost:${port}/silent`)], { allowLoopback: true, resolve: local, ca, timeoutMs: 500 })).rejects.toThrow(/no answer within 1 s/);
    // The certificate is checked against the URL's name, not the address connected to.
    await expect(fetchInputs([input(`https://localhost:${port}/data`)], { allowLoopback: true, resolve: local })).rejects.toMatchObject({ code: 'input-unreachable', message: expect.stringMatching(/self-signed certificate/) });
    await expect(fetchInputs([input('not a url')], { allowLoopback: true })).rejects.toThrow(/is not a URL/);
  });

  it('plain http to this computer by address, as the local demo market serves its inputs', async () => {
    const got = await fetchInputs([input(`http://127.0.0.1:${plainPort}/data`)], { allowLoopback: true });
    expect(Buffer.from(got['data.bin']!).equals(DATA)).toBe(true);
  });
});
