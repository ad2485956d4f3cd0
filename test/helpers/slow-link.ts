/**
 * A network link of limited speed between the Docker engine and a registry: a TCP relay on
 * 127.0.0.1 that passes bytes from the registry at most `bytesPerSecond`, and that can drop every
 * connection at once (a network that goes away mid-pull). The registry behind it is real; only the
 * link's speed and its loss are played, as a slow home connection would.
 */
import net from 'node:net';

export interface SlowLink {
  /** `127.0.0.1:PORT`: name this host in an image ref to pull through the link. */
  host: string;
  /** Cuts every open connection (the next ones pass again). */
  drop(): void;
  close(): Promise<void>;
}

export async function startSlowLink(target: { host: string }, bytesPerSecond: number): Promise<SlowLink> {
  const [targetHost, targetPort] = target.host.split(':') as [string, string];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), targetHost);
    sockets.add(client).add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    // The client's side closing ends both; the registry's side ending lets the queue drain first.
    client.on('error', forget).on('close', forget);
    upstream.on('error', () => undefined);
    client.pipe(upstream);
    // From the registry: paced, a slice every 50 ms.
    const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
    let queue: Buffer[] = [];
    let queued = 0;
    const timer = setInterval(() => {
      let budget = slice;
      while (budget > 0 && queue.length) {
        const head = queue[0]!;
        const part = head.subarray(0, budget);
        client.write(part);
        budget -= part.length;
        queued -= part.length;
        if (part.length === head.length) queue.shift();
        else queue[0] = head.subarray(part.length);
      }
      if (queued < slice * 4 && upstream.isPaused()) upstream.resume();
    }, 50);
    upstream.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued > slice * 8) upstream.pause();
    });
    upstream.on('close', () => {
      const flush = setInterval(() => {
        if (queue.length === 0) {
          clearInterval(flush);
          clearInterval(timer);
          client.end();
        }
      }, 50);
    });
    client.on('close', () => {
      clearInterval(timer);
      queue = [];
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    drop() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
