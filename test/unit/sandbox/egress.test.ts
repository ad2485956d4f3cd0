import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRefusal, forbiddenAddresses, isAllowed, parseAllowEntry } from '../../../runtime/sandbox/egress/destinations.js';
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
});

describe('destinations never reached', () => {
  const list = forbiddenAddresses();
  it.each(['127.0.0.1', '10.1.2.3', '172.17.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1'])(
    '%s is refused',
    (ip) => expect(destinationRefusal(ip, list)).toMatch(/private, loopback, link-local/),
  );
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
