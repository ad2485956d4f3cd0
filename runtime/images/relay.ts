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
    try {
      await this.cache.fetch(layer, image.open, image.onBytes, image.signal);
    } catch (error) {
      image.onFailure(error as Error);
      return void res.writeHead(502, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: (error as Error).message.slice(0, 500) }] }));
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': layer.sizeBytes, 'Docker-Content-Digest': digest, 'Docker-Distribution-API-Version': 'registry/2.0' });
    if (head) return void res.end();
    const file = fs.createReadStream(this.cache.file(digest));
    file.on('error', () => res.destroy());
    file.pipe(res);
  }
}
