/**
 * The local relay the engine pulls from: a registry's read API on 127.0.0.1 (the engine pulls
 * from loopback over plain HTTP by default) that serves the manifests and config Offshift has
 * already verified, and each layer from Offshift's blob cache once it is there (downloaded,
 * resumed, verified: blob-cache.ts). It serves only what a pull in progress registered.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { BlobCache, OpenBlob } from './blob-cache.js';

export interface RelayedImage {
  repository: string;
  /** Manifests and the config, verified, by digest. */
  documents: ReadonlyMap<string, { bytes: Buffer; mediaType: string }>;
  /** The layers the engine may ask for. */
  layers: ReadonlyMap<string, { digest: string; sizeBytes: number }>;
  open: OpenBlob;
  onBytes: (delta: number) => void;
  /** A layer could not be downloaded or verified: the pull stops at once (the engine would retry it for minutes). */
  onFailure: (error: Error) => void;
  signal: AbortSignal;
}

export class PullRelay {
  private server: http.Server | null = null;
  private starting: Promise<string> | null = null;
  private readonly registered = new Set<RelayedImage>();

  constructor(private readonly cache: BlobCache) {}

  /** `127.0.0.1:PORT`, listening. */
  host(): Promise<string> {
    this.starting ??= new Promise<string>((resolve, reject) => {
      const server = http.createServer((req, res) => void this.serve(req, res));
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        resolve(`127.0.0.1:${(server.address() as { port: number }).port}`);
      });
    });
    return this.starting;
  }

  /** Serves the image until the returned function is called. */
  register(image: RelayedImage): () => void {
    this.registered.add(image);
    return () => this.registered.delete(image);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.starting = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return void res.writeHead(405).end();
    const url = (req.url ?? '/').split('?')[0]!;
    if (url === '/v2/' || url === '/v2') return void res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' }).end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(sha256:[0-9a-f]{64})$/.exec(url);
    const image = m ? [...this.registered].find((i) => i.repository === m[1] && (i.documents.has(m[3]!) || i.layers.has(m[3]!))) : undefined;
    if (!m || !image) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"not served here"}]}');
    const digest = m[3]!;
    const doc = image.documents.get(digest);
    if (doc) {
      res.writeHead(200, { 'Content-Type': doc.mediaType, 'Content-Length': doc.bytes.length, 'Docker-Content-Digest': digest, 'Docker-Distribution-API-Version': 'registry/2.0' });
      return void res.end(head ? undefined : doc.bytes);
    }
    const layer = image.layers.get(digest)!;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': layer.sizeBytes, 'Docker-Content-Digest': digest, 'Docker-Distribution-API-Version': 'registry/2.0' });
    if (head) return void res.end();
    // The layer is streamed as it reaches the cache (the engine checks the digest of what it gets);
    // a download that fails cuts the answer, and the engine's pull fails with it.
    const fetched = this.cache.fetch(layer, image.open, image.onBytes, image.signal);
    let failed = false;
    fetched.catch((error: unknown) => {
      failed = true;
      image.onFailure(error as Error);
    });
    try {
      await this.stream(layer, res, fetched, () => failed);
    } catch {
      res.destroy();
    }
  }

  /** Writes the layer's bytes to `res` as the cache gets them: from the finished file, or following the partial one. */
  private async stream(layer: { digest: string; sizeBytes: number }, res: http.ServerResponse, fetched: Promise<void>, failed: () => boolean): Promise<void> {
    let done = false;
    void fetched.then(
      () => (done = true),
      () => {},
    );
    const handle = await openWhenThere(this.cache, layer.digest);
    try {
      let position = 0;
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      while (position < layer.sizeBytes) {
        if (failed() || res.destroyed) throw new Error('the layer did not arrive');
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, layer.sizeBytes - position), position);
        if (bytesRead === 0) {
          // Finished (and renamed: the open file is the same) yet short: it was started over under us.
          if (done) throw new Error('the layer file changed while it was served');
          await new Promise<void>((resolve) => {
            const wake = (d: string) => {
              if (d !== layer.digest) return;
              clearTimeout(timer);
              this.cache.written.off('written', wake);
              resolve();
            };
            const timer = setTimeout(() => {
              this.cache.written.off('written', wake);
              resolve();
            }, 100);
            this.cache.written.on('written', wake);
          });
          continue;
        }
        position += bytesRead;
        // A copy of what was read: the answer holds on to what it was given until it is sent, and the buffer is read into again.
        if (!res.write(Buffer.from(buffer.subarray(0, bytesRead)))) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
      }
      res.end();
    } finally {
      await handle.close();
    }
  }
}

/** The layer's file, finished or partial, once it exists (the open file follows a rename from partial to finished). */
async function openWhenThere(cache: BlobCache, digest: string): Promise<fs.promises.FileHandle> {
  for (let i = 0; ; i++) {
    for (const file of [cache.file(digest), cache.partial(digest)]) {
      try {
        return await fs.promises.open(file, 'r');
      } catch {}
    }
    if (i > 600) throw new Error(`the layer ${digest} never reached the cache`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
