/**
 * Pure rules of the egress proxy: which destinations a job's allow-list names, and which
 * addresses are never reached (private, loopback, link-local, …) unless policy allows them.
 */
import net from 'node:net';
import os from 'node:os';

/** A TCP port a connection can name: 1 to 65535. */
export function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** host[:port] → its host and the ports it allows (no port: HTTPS and HTTP, 443 and 80; a port out of range: none). */
export function parseAllowEntry(entry: string): { host: string; ports: number[] } {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(entry.toLowerCase())!;
  if (!m[2]) return { host: m[1]!, ports: [443, 80] };
  const port = Number(m[2]);
  return { host: m[1]!, ports: isPort(port) ? [port] : [] };
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
  // IPv4 inside IPv6: IPv4-compatible (::7f00:1 is ::127.0.0.1), 6to4 (2002:AABB:CCDD::), Teredo
  // (an obfuscated IPv4), local-use NAT64: each can carry this machine's or its LAN's address.
  ['::', 96],
  ['2002::', 16],
  ['2001::', 32],
  ['64:ff9b:1::', 48],
  // Site-local (deprecated, still routed on some LANs).
  ['fec0::', 10],
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
/**
 * Whether a resolved address may be connected to. Refused: the ranges above and `ownAddresses`
 * (every address of this machine, public ones included: the proxy connects from the host, where
 * the job's firewall rule does not apply). `allowedPrivate` (admin policy) lists addresses or
 * CIDRs that are reachable all the same (a LAN data store, say). Never throws: an address that is
 * not an IP is refused.
 */
export function destinationRefusal(
  address: string,
  forbidden: net.BlockList,
  allowedPrivate: readonly string[] = [],
  ownAddresses: ReadonlySet<string> = new Set(),
): string | null {
  const family = net.isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1, ::ffff:a00:1) is judged as the IPv4 it maps.
  const mapped = family === 6 ? mappedIpv4(canonical(address)) : null;
  const ip = mapped ?? address;
  const fam = mapped || family === 4 ? 'ipv4' : 'ipv6';
  const reserved = forbidden.check(ip, fam);
  const own = ownAddresses.has(canonical(ip));
  if (!reserved && !own) return null;
  if (allowedPrivate.some((entry) => entryMatches(entry, ip, fam))) return null;
  if (!reserved) return `${ip} is an address of this machine: never reached from a job`;
  return `${ip} is a private, loopback, link-local or reserved address (this machine, its LAN or cloud metadata): never reached from a job`;
}

function entryMatches(entry: string, ip: string, fam: 'ipv4' | 'ipv6'): boolean {
  try {
    const [base, bits] = entry.split('/');
    const allow = new net.BlockList();
    const baseFam = net.isIPv6(base!) ? 'ipv6' : 'ipv4';
    if (bits) allow.addSubnet(base!, Number(bits), baseFam);
    else allow.addAddress(base!, baseFam);
    return allow.check(ip, fam);
  } catch {
    return false; // a malformed policy entry allows nothing
  }
}

function mappedIpv4(ip: string): string | null {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** One spelling per address (IPv6 compressed and lower-case), to compare addresses as text. */
export function canonical(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** This machine's own addresses (every interface, up or not), canonical. */
export function hostAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(interfaces)) for (const i of list ?? []) out.add(canonical(i.address.replace(/%.*$/, '')));
  return out;
}
