/**
 * The agent's egress proxy: an HTTP CONNECT proxy on the egress network's gateway. A job
 * reaches a host only if its allow-list names it, and only at an address that is not private,
 * loopback or link-local (resolved here, once, and connected to by address: no DNS rebinding).
 * Jobs are told apart by their container's address on the egress network.
 */
import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import { destinationRefusal, forbiddenAddresses, hostAddresses, isAllowed, isPort } from './destinations.js';

/** Open tunnels one job may hold at once; more are refused (429). */
export const DEFAULT_MAX_CONNECTIONS_PER_JOB = 64;
/** A tunnel with no byte either way for this long is closed. */
export const DEFAULT_IDLE_MS = 5 * 60_000;
/** This machine's addresses are read again at most this often (interfaces and DHCP leases change). */
const OWN_ADDRESSES_TTL_MS = 10_000;

export interface EgressClient {
  jobId: string;
  allow: readonly string[];
}

export interface EgressProxyOptions {
  allowedPrivate?: readonly string[];
  /** Each decision, for the job's log. */
  onDecision?: (jobId: string | null, line: string) => void;
  /** Test hook: resolve names (default dns.lookup, all addresses). */
  lookup?: (host: string) => Promise<string[]>;
  /** Test hook: this machine's addresses (default: os.networkInterfaces(), re-read every 10 s). */
  ownAddresses?: () => ReadonlySet<string>;
  maxConnectionsPerJob?: number;
  idleMs?: number;
}

export class EgressProxy {
  private readonly clients = new Map<string, EgressClient>();
  private readonly forbidden = forbiddenAddresses();
  private server: http.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Open tunnels (and those being set up) per job. */
  private readonly open = new Map<string, number>();
  private own: { at: number; addresses: ReadonlySet<string> } | null = null;
  port = 0;

  constructor(private readonly options: EgressProxyOptions = {}) {}

  register(ip: string, client: EgressClient): void {
    this.clients.set(ip, client);
  }

  unregister(ip: string): void {
    this.clients.delete(ip);
  }

  async listen(host: string, port = 0): Promise<number> {
    const server = http.createServer((req, res) => {
      const client = this.clients.get(normalize(req.socket.remoteAddress));
      this.options.onDecision?.(client?.jobId ?? null, `[egress] refused ${req.method} ${req.url}: only HTTPS through CONNECT is proxied\n`);
      res.writeHead(405, { 'content-type': 'text/plain' }).end('Offshift egress proxy: only CONNECT (HTTPS) is supported.\n');
    });
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      // Whatever a job sends, the proxy (inside the agent) never throws: the tunnel just closes.
      this.connect(req, socket, head).catch(() => socket.destroy());
    });
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private async connect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const client = this.clients.get(normalize(socket.remoteAddress));
    const refuse = (status: string, why: string) => {
      this.options.onDecision?.(client?.jobId ?? null, `[egress] refused ${String(req.url).slice(0, 300)}: ${why}\n`);
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\n\r\nOffshift egress proxy: ${why}\n`);
    };
    if (!client) return refuse('403 Forbidden', 'this address is not a job of this agent');
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    if (!m) return refuse('400 Bad Request', 'CONNECT needs host:port');
    const host = m[1]!;
    const port = Number(m[2]);
    if (!isPort(port)) return refuse('400 Bad Request', `${port} is not a TCP port (1 to 65535)`);
    if (!isAllowed(client.allow, host, port)) return refuse('403 Forbidden', `${host}:${port} is not on this job's allow-list`);
    const max = this.options.maxConnectionsPerJob ?? DEFAULT_MAX_CONNECTIONS_PER_JOB;
    const count = this.open.get(client.jobId) ?? 0;
    if (count >= max) return refuse('429 Too Many Requests', `this job has ${count} connections open, the most it may hold; close one first`);
    this.open.set(client.jobId, count + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const n = (this.open.get(client.jobId) ?? 1) - 1;
      if (n > 0) this.open.set(client.jobId, n);
      else this.open.delete(client.jobId);
    };
    socket.once('close', uncount);
    let addresses: string[];
    try {
      addresses = net.isIP(host) ? [host] : await (this.options.lookup ?? defaultLookup)(host);
    } catch {
      return refuse('502 Bad Gateway', `cannot resolve ${host}`);
    }
    const own = this.ownAddresses();
    const refusals = addresses.map((a) => destinationRefusal(a, this.forbidden, this.options.allowedPrivate, own)).filter((r): r is string => r !== null);
    // One forbidden address is enough to refuse: a name that resolves to the LAN is not trusted.
    if (refusals.length || !addresses.length) return refuse('403 Forbidden', refusals[0] ?? `${host} has no address`);
    if (socket.destroyed) return;
    const upstream = net.connect({ host: addresses[0]!, port });
    const idleMs = this.options.idleMs ?? DEFAULT_IDLE_MS;
    const idle = () => {
      this.options.onDecision?.(client.jobId, `[egress] closed ${host}:${port}: idle for ${Math.round(idleMs / 1000)} s\n`);
      socket.destroy();
      upstream.destroy();
    };
    socket.setTimeout(idleMs, idle);
    upstream.on('error', () => refuse('502 Bad Gateway', `cannot connect to ${host}:${port}`));
    socket.once('close', () => upstream.destroy());
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', () => socket.destroy());
      this.options.onDecision?.(client.jobId, `[egress] connected ${host}:${port} (${addresses[0]})\n`);
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.setTimeout(idleMs, idle);
      socket.pipe(upstream).pipe(socket);
      upstream.on('close', () => socket.destroy());
    });
  }

  /** Open tunnels per job (for the tests and the job's log). */
  connections(jobId: string): number {
    return this.open.get(jobId) ?? 0;
  }

  private ownAddresses(): ReadonlySet<string> {
    if (this.options.ownAddresses) return this.options.ownAddresses();
    const now = Date.now();
    if (!this.own || now - this.own.at > OWN_ADDRESSES_TTL_MS) {
      try {
        this.own = { at: now, addresses: hostAddresses() };
      } catch {
        this.own ??= { at: now, addresses: new Set() };
      }
    }
    return this.own.addresses;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

function normalize(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

async function defaultLookup(host: string): Promise<string[]> {
  return (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
