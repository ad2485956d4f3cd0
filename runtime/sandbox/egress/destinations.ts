/**
 * Pure rules of the egress proxy: which destinations a job's allow-list names, and which
 * addresses are never reached (private, loopback, link-local, …) unless policy allows them.
 */
import net from 'node:net';

/** host[:port] → its host and the ports it allows (no port: HTTPS and HTTP, 443 and 80). */
export function parseAllowEntry(entry: string): { host: string; ports: number[] } {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(entry.toLowerCase())!;
  return { host: m[1]!, ports: m[2] ? [Number(m[2])] : [443, 80] };
}

export function isAllowed(allow: readonly string[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allow.some((entry) => {
    const e = parseAllowEntry(entry);
    return e.host === h && e.ports.includes(port);
  });
}

/** Ranges a job never reaches through the proxy: this machine, its LAN, cloud metadata, … */
const FORBIDDEN_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const FORBIDDEN_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
];

export function forbiddenAddresses(): net.BlockList {
  const list = new net.BlockList();
  for (const [a, p] of FORBIDDEN_V4) list.addSubnet(a, p, 'ipv4');
  for (const [a, p] of FORBIDDEN_V6) list.addSubnet(a, p, 'ipv6');
  return list;
}

/**
 * Whether a resolved address may be connected to. `allowedPrivate` (admin policy) lists
 * addresses or CIDRs that are reachable even though private (a LAN data store, say).
 */
export function destinationRefusal(address: string, forbidden: net.BlockList, allowedPrivate: readonly string[] = []): string | null {
  const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 it maps.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const fam = mapped ? 'ipv4' : family;
  if (!forbidden.check(ip, fam)) return null;
  for (const entry of allowedPrivate) {
    const [base, bits] = entry.split('/');
    const allow = new net.BlockList();
    const baseFam = net.isIPv6(base!) ? 'ipv6' : 'ipv4';
    if (bits) allow.addSubnet(base!, Number(bits), baseFam);
    else allow.addAddress(base!, baseFam);
    if (allow.check(ip, fam)) return null;
  }
  return `${ip} is a private, loopback, link-local or reserved address (this machine, its LAN or cloud metadata): never reached from a job`;
}
