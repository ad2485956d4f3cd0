/**
 * A registry that lies about a layer's bytes, played by a small HTTP server on 127.0.0.1 that
 * speaks the registry API (the real registry client reads its manifest and config, the real blob
 * cache downloads from it): it ignores Range requests, and sends an endless body for a layer. Its
 * best gain is the agent's bandwidth and disk: bounded by the layer's stated size, cut there, and
 * nothing it sent kept as the layer.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../runtime/images/blob-cache.js';
import { parseImageRef, readManifest } from '../../../runtime/images/registry.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const MB = 1024 * 1024;
const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

interface Lying {
  ref: string;
  layer: { digest: string; sizeBytes: number; bytes: Buffer };
  /** Bytes written for the layer so far, and whether the client hung up on an endless body. */
  sent: () => number;
  ranges: string[];
  close(): Promise<void>;
}

/** `mode`: 'endless' (200 with random bytes forever, Range ignored) or 'ignores-range' (200 with the whole true layer to every request). */
async function lyingRegistry(mode: 'endless' | 'ignores-range'): Promise<Lying> {
  const bytes = crypto.randomBytes(4 * MB);
  const layer = { digest: sha(bytes), sizeBytes: bytes.length, bytes };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.sizeBytes }],
    }),
  );
  let sent = 0;
  const ranges: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return res.writeHead(200).end('{}');
    if (url.endsWith(`/manifests/${sha(manifest)}`)) return res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    if (url.endsWith(`/blobs/${sha(config)}`)) return res.writeHead(200).end(config);
    if (url.endsWith(`/blobs/${layer.digest}`)) {
      ranges.push(String(req.headers.range ?? ''));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (mode === 'ignores-range') {
        sent += bytes.length;
        return res.end(bytes);
      }
      const chunk = crypto.randomBytes(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) {
          sent += chunk.length;
          res.once('drain', pump);
        }
      };
      res.on('close', () => res.removeAllListeners('drain'));
      return pump();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    ref: `${host}/lying/app@${sha(manifest)}`,
    layer,
    sent: () => sent,
    ranges,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('a registry that lies about a layer', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(mode: 'endless' | 'ignores-range') {
    const reg = await lyingRegistry(mode);
    cleanups.push(() => reg.close());
    const temp = makeTempHome('offshift-lying-registry-');
    cleanups.push(temp.cleanup);
    const facts = await readManifest(parseImageRef(reg.ref), { mirror: null });
    const cache = new BlobCache(path.join(temp.home, 'blobs'));
    return { reg, facts, cache, layer: { digest: reg.layer.digest, sizeBytes: reg.layer.sizeBytes } };
  }

  it('an endless body is cut at the stated size: the download fails saying why, and no more than the layer is kept', async () => {
    const { reg, facts, cache, layer } = await setUp('endless');
    const started = Date.now();
    await expect(cache.fetch(layer, facts.openBlob, () => {}, new AbortController().signal)).rejects.toMatchObject({
      code: 'image-digest-mismatch',
      message: expect.stringMatching(/sent more than the \d+ bytes its manifest states/) as string,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cache.has(layer.digest)).toBe(false);
    expect(cache.heldBytes(layer.digest)).toBeLessThanOrEqual(layer.sizeBytes);
    // The connection was dropped: what it could push past the cut is bounded by the socket buffers.
    await new Promise((r) => setTimeout(r, 300));
    const sentAtCut = reg.sent();
    await new Promise((r) => setTimeout(r, 500));
    expect(reg.sent()).toBe(sentAtCut);
    expect(sentAtCut).toBeLessThan(layer.sizeBytes + 16 * MB);
    // Asked again, the garbage it sent is not taken as the layer's start: it fails again, never "verified".
    await expect(cache.fetch(layer, facts.openBlob, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: expect.stringMatching(/^image-digest-mismatch$/) as string });
    expect(cache.has(layer.digest)).toBe(false);
  });

  it('a registry that ignores Range and sends the whole true layer: the download starts over and is verified', async () => {
    const { reg, facts, cache, layer } = await setUp('ignores-range');
    // Half of the layer is here from a pull cut short.
    fs.mkdirSync(cache.dir, { recursive: true });
    fs.writeFileSync(cache.partial(layer.digest), reg.layer.bytes.subarray(0, 2 * MB));
    await cache.fetch(layer, facts.openBlob, () => {}, new AbortController().signal);
    expect(reg.ranges).toEqual([`bytes=${2 * MB}-`, '']);
    expect(cache.has(layer.digest)).toBe(true);
    expect(fs.readFileSync(cache.file(layer.digest)).equals(reg.layer.bytes)).toBe(true);
  });
});
