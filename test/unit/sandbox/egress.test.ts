import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRefusal, forbiddenAddresses, hostAddresses, isAllowed, parseAllowEntry } from '../../../runtime/sandbox/egress/destinations.js';
import { EgressProxy } from '../../../runtime/sandbox/egress/proxy.js';

describe('allow-list entries', () => {
  it('host alone allows 443 and 80; host:port only that port', () => {
    expect(parseAllowEntry('pypi.org')).toEqual({ host: 'pypi.org', ports: [443, 80] });
    expect(isAllowed(['pypi.org'], 'PyPI.org', 443)).toBe(true);
    expect(isAllowed(['pypi.org'], 'pypi.org', 22)).toBe(false);
    expect(isAllowed(['files.example.com:8443'], 'files.example.com', 8443)).toBe(true);
    expect(isAllowed(['files.example.com:8443'], 'files.example.com', 443)).toBe(false);
    expect(isAllowed(['example.com'], 'evil.example.com', 443)).toBe(false);
    expect(isAllowed(['example.com'], 'example.com.', 443)).toBe(true);
  });
  it('an entry with a port out of range allows nothing', () => {
    expect(parseAllowEntry('a.example:99999')).toEqual({ host: 'a.example', ports: [] });
    expect(isAllowed(['a.example:99999'], 'a.example', 99999)).toBe(false);
  });
});

describe('destinations never reached', () => {
  const list = forbiddenAddresses();
  it.each(['127.0.0.1', '10.1.2.3', '172.17.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1'])(
    '%s is refused',
    (ip) => expect(destinationRefusal(ip, list)).toMatch(/private, loopback, link-local/),
  );
  // IPv4-compatible (::7f00:1 is ::127.0.0.1), mapped in hex, 6to4, Teredo, site-local, local NAT64.
  it.each(['::7f00:1', '::127.0.0.1', '::a00:1', '::ffff:7f00:1', '2002:7f00:1::1', '2002:c0a8:101::1', '2001:0:4136:e378::1', 'fec0::1', 'feff::1', '64:ff9b:1::a00:1'])(
    '%s (IPv4 inside IPv6, site-local) is refused',
    (ip) => expect(destinationRefusal(ip, list)).toMatch(/private, loopback, link-local/),
  );
  it('this machine\'s own addresses are refused, public ones included (the proxy connects from the host)', () => {
    const own = hostAddresses({ eth0: [{ address: '203.0.114.7', family: 'IPv4' } as never, { address: '2a01:4f8::1%eth0', family: 'IPv6' } as never] });
    expect(destinationRefusal('203.0.114.7', list, [], own)).toMatch(/an address of this machine/);
    expect(destinationRefusal('2a01:04f8:0::0001', list, [], own)).toMatch(/an address of this machine/);
    expect(destinationRefusal('::ffff:203.0.114.7', list, [], own)).toMatch(/an address of this machine/);
    expect(destinationRefusal('203.0.114.8', list, [], own)).toBeNull();
    // The real interfaces: loopback is among them.
    expect(hostAddresses().has('127.0.0.1')).toBe(true);
  });
  it('never throws on what is not an address or a malformed policy entry', () => {
    expect(destinationRefusal('not-an-ip', list)).toMatch(/not an IP address/);
    expect(destinationRefusal('10.0.0.1', list, ['10.0.0.0/99', 'garbage'])).toMatch(/private/);
  });
  it.each(['1.1.1.1', '151.101.0.223', '2606:4700::1111'])('%s is allowed', (ip) => expect(destinationRefusal(ip, list)).toBeNull());
  it('policy may allow a private address or range', () => {
    expect(destinationRefusal('10.0.0.5', list, ['10.0.0.0/24'])).toBeNull();
    expect(destinationRefusal('10.0.1.5', list, ['10.0.0.0/24'])).not.toBeNull();
    expect(destinationRefusal('192.0.2.2', list, ['192.0.2.2'])).toBeNull();
  });
});

describe('EgressProxy (CONNECT) on loopback', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function request(proxyPort: number, target: string): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('close', () => resolve(data));
      setTimeout(() => s.destroy(), 1500);
    });
  }

  it('tunnels to an allowed, policy-permitted destination; refuses the rest with the reason', async () => {
    const upstream = net.createServer((s) => s.end('hello through the tunnel\n'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    closers.push(() => void upstream.close());
    const upPort = (upstream.address() as net.AddressInfo).port;
    const decisions: string[] = [];
    const proxy = new EgressProxy({ allowedPrivate: ['127.0.0.1'], onDecision: (_id, line) => decisions.push(line), lookup: async () => ['10.9.9.9'] });
    const port = await proxy.listen('127.0.0.1');
    closers.push(() => proxy.close());
    expect(await request(port, `127.0.0.1:${upPort}`)).toMatch(/403 Forbidden[\s\S]*not a job of this agent/);
    proxy.register('127.0.0.1', { jobId: 'j1', allow: [`127.0.0.1:${upPort}`, 'lan.example:443'] });
    const ok = await request(port, `127.0.0.1:${upPort}`);
    expect(ok).toContain('200 Connection established');
    expect(ok).toContain('hello through the tunnel');
    expect(await request(port, '127.0.0.1:1')).toMatch(/not on this job's allow-list/);
    // A listed name that resolves to a private address is refused (no DNS rebinding into the LAN).
    expect(await request(port, 'lan.example:443')).toMatch(/10\.9\.9\.9 is a private/);
    expect(decisions.some((d) => d.includes('connected'))).toBe(true);
  });
});

describe('EgressProxy never throws, caps each job', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /** Opens a CONNECT; resolves with what came back once the proxy answered (or closed). */
  function connect(proxyPort: number, target: string, keep = false): Promise<{ text: string; socket: net.Socket; closed: Promise<void> }> {
    return new Promise((resolve) => {
      const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      let text = '';
      const closed = new Promise<void>((r) => s.on('close', () => r()));
      s.on('error', () => {});
      s.on('data', (d) => {
        text += d.toString();
        if (keep && text.includes('\r\n\r\n')) resolve({ text, socket: s, closed });
      });
      void closed.then(() => resolve({ text, socket: s, closed }));
      setTimeout(() => s.destroy(), 3000);
    });
  }

  it('a port above 65535 is refused with the reason; no unhandled rejection reaches the agent', async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    process.on('unhandledRejection', onRejection);
    closers.push(() => void process.off('unhandledRejection', onRejection));
    const proxy = new EgressProxy({ lookup: async () => ['1.1.1.1'] });
    const port = await proxy.listen('127.0.0.1');
    closers.push(() => proxy.close());
    proxy.register('127.0.0.1', { jobId: 'j1', allow: ['a.example:99999', '1.1.1.1:99999', 'b.example:65536'] });
    for (const target of ['a.example:99999', '1.1.1.1:99999', 'b.example:65536', '[::1]:70000', 'a.example:0']) {
      expect((await connect(port, target)).text).toMatch(/400 Bad Request[\s\S]*not a TCP port/);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(rejections).toEqual([]);
  });

  it('refuses a name that resolves to this machine\'s own (public) address', async () => {
    const proxy = new EgressProxy({ lookup: async () => ['203.0.114.7'], ownAddresses: () => new Set(['203.0.114.7']) });
    const port = await proxy.listen('127.0.0.1');
    closers.push(() => proxy.close());
    proxy.register('127.0.0.1', { jobId: 'j1', allow: ['me.example'] });
    expect((await connect(port, 'me.example:443')).text).toMatch(/403 Forbidden[\s\S]*address of this machine/);
  });

  it('caps the tunnels one job holds open, and closes a tunnel idle past its limit', async () => {
    const upstream = net.createServer(() => {});
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    closers.push(() => void upstream.close());
    const upPort = (upstream.address() as net.AddressInfo).port;
    const decisions: string[] = [];
    const proxy = new EgressProxy({ allowedPrivate: ['127.0.0.1'], maxConnectionsPerJob: 2, idleMs: 400, onDecision: (_id, line) => decisions.push(line) });
    const port = await proxy.listen('127.0.0.1');
    closers.push(() => proxy.close());
    proxy.register('127.0.0.1', { jobId: 'j1', allow: [`127.0.0.1:${upPort}`] });
    const a = await connect(port, `127.0.0.1:${upPort}`, true);
    const b = await connect(port, `127.0.0.1:${upPort}`, true);
    expect(a.text).toContain('200 Connection established');
    expect(b.text).toContain('200 Connection established');
    expect(proxy.connections('j1')).toBe(2);
    expect((await connect(port, `127.0.0.1:${upPort}`)).text).toMatch(/429 Too Many Requests[\s\S]*2 connections open/);
    // Neither side sends a byte: both tunnels close after the idle limit, and the job may connect again.
    const t = Date.now();
    await Promise.all([a.closed, b.closed]);
    expect(Date.now() - t).toBeLessThan(2500);
    expect(decisions.some((d) => /idle for/.test(d))).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(proxy.connections('j1')).toBe(0);
    const c = await connect(port, `127.0.0.1:${upPort}`, true);
    expect(c.text).toContain('200 Connection established');
    c.socket.destroy();
  });
});
