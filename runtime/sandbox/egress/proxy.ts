/**
 * The agent's egress proxy: an HTTP CONNECT proxy on the egress network's gateway. A job
 * reaches a host only if its allow-list names it, and only at an address that is not private,
 * loopback or link-local (resolved here, once, and connected to by address: no DNS rebinding).
 * Jobs are told apart by their container's address on the egress network.
 */
import dns from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import { destinationRefusal, forbiddenAddresses, isAllowed } from './destinations.js';

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
}

export class EgressProxy {
  private readonly clients = new Map<string, EgressClient>();
  private readonly forbidden = forbiddenAddresses();
  private server: http.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
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
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.connect(req, socket, head));
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
      this.options.onDecision?.(client?.jobId ?? null, `[egress] refused ${req.url}: ${why}\n`);
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\n\r\nOffshift egress proxy: ${why}\n`);
    };
    if (!client) return refuse('403 Forbidden', 'this address is not a job of this agent');
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    if (!m) return refuse('400 Bad Request', 'CONNECT needs host:port');
    const host = m[1]!;
    const port = Number(m[2]);
    if (!isAllowed(client.allow, host, port)) return refuse('403 Forbidden', `${host}:${port} is not on this job's allow-list`);
    let addresses: string[];
    try {
      addresses = net.isIP(host) ? [host] : await (this.options.lookup ?? defaultLookup)(host);
    } catch {
      return refuse('502 Bad Gateway', `cannot resolve ${host}`);
    }
    const refusals = addresses.map((a) => destinationRefusal(a, this.forbidden, this.options.allowedPrivate)).filter((r): r is string => r !== null);
    // One forbidden address is enough to refuse: a name that resolves to the LAN is not trusted.
    if (refusals.length || !addresses.length) return refuse('403 Forbidden', refusals[0] ?? `${host} has no address`);
    const upstream = net.connect({ host: addresses[0]!, port });
    upstream.on('error', () => refuse('502 Bad Gateway', `cannot connect to ${host}:${port}`));
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', () => socket.destroy());
      this.options.onDecision?.(client.jobId, `[egress] connected ${host}:${port} (${addresses[0]})\n`);
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
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
