/**
 * A minimal Docker registry (the v2 API's read side) on 127.0.0.1, serving one image made from
 * a local one (`docker save`): its config, its layers gzipped, and a schema-2 manifest. The
 * Docker engine pulls from 127.0.0.0/8 over plain HTTP by default, so jobs pinned by digest
 * (`127.0.0.1:PORT/name@sha256:…`) are pulled and verified for real without any outside registry.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeTempDir } from './temp-home.js';

export interface LocalRegistry {
  /** `127.0.0.1:PORT/NAME@sha256:…`: the image pinned by its manifest digest. */
  ref: string;
  host: string;
  manifestDigest: string;
  /** Requests served, for assertions. */
  requests: string[];
  close(): Promise<void>;
}

const sha256 = (data: Buffer) => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');

export async function startLocalRegistry(localImage: string, name = 'offshift-test/pull'): Promise<LocalRegistry> {
  const dir = makeTempDir('offshift-registry-');
  try {
    execFileSync('docker', ['save', localImage, '-o', path.join(dir, 'image.tar')], { stdio: 'pipe' });
    execFileSync('tar', ['-xf', 'image.tar'], { cwd: dir, stdio: 'pipe' });
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; Layers: string[] }>;
    const config = fs.readFileSync(path.join(dir, saved[0]!.Config));
    const blobs = new Map<string, Buffer>([[sha256(config), config]]);
    const layers = saved[0]!.Layers.map((file) => {
      const gz = zlib.gzipSync(fs.readFileSync(path.join(dir, file)));
      blobs.set(sha256(gz), gz);
      return { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: gz.length, digest: sha256(gz) };
    });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
        layers,
      }),
    );
    const manifestDigest = sha256(manifest);
    const requests: string[] = [];

    const server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      requests.push(`${req.method} ${url}`);
      if (url === '/v2/' || url === '/v2') {
        res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' }).end('{}');
        return;
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
      if (!m || m[1] !== name) {
        res.writeHead(404).end();
        return;
      }
      const [, , kind, reference] = m;
      const body = kind === 'manifests' ? (reference === manifestDigest ? manifest : null) : (blobs.get(reference!) ?? null);
      if (!body) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
        return;
      }
      res.writeHead(200, {
        'Content-Type': kind === 'manifests' ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/octet-stream',
        'Content-Length': body.length,
        'Docker-Content-Digest': reference!,
        'Docker-Distribution-API-Version': 'registry/2.0',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const host = `127.0.0.1:${port}`;
    return {
      ref: `${host}/${name}@${manifestDigest}`,
      host,
      manifestDigest,
      requests,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
