/**
 * Images made at test time, of any size: a runnable root (the host's static busybox, with /bin/sh)
 * and then one layer per requested size, each a gzip tar of one file of pseudo-random bytes from
 * the seed. Built as an OCI layout in a temp folder, streamed (gigabytes never sit in memory),
 * and pushed to a registry with skopeo. The same seed and sizes give the same image, digest included.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { makeTempDir } from './temp-home.js';

const run = promisify(execFile);
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const CHUNK = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface RandomImageLayer {
  digest: string;
  /** Compressed size, as in the manifest. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

export interface RandomImage {
  /** `<host>/<repository>@sha256:…`: pinned by the digest the registry holds. */
  ref: string;
  digest: string;
  repository: string;
  /** Config and layers together, as the manifest states them. */
  compressedBytes: number;
  /** The busybox root first, then one per requested size. */
  layers: RandomImageLayer[];
}

export interface RandomImageOptions {
  repository: string;
  /** One layer of this many random bytes per entry, after the busybox root. */
  layerBytes: number[];
  seed?: number | string;
  tag?: string;
}

export function canPushRandomImages(): string | null {
  if (!BUSYBOX) return 'busybox-static is not installed (apt-get install busybox-static)';
  if (!fs.existsSync('/usr/bin/skopeo')) return 'skopeo is not installed (apt-get install skopeo)';
  return null;
}

export async function pushRandomImage(registry: { host: string }, options: RandomImageOptions): Promise<RandomImage> {
  const seed = String(options.seed ?? 0);
  const tag = options.tag ?? 'latest';
  const dir = makeTempDir('offshift-oci-');
  try {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const layers = [await writeBlob(dir, rootTar(seed), 6)];
    for (const [i, bytes] of options.layerBytes.entries()) layers.push(await writeBlob(dir, randomTar(seed, i, bytes), 0));

    const config = json({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    });
    const configDesc = writeSmallBlob(dir, config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...configDesc },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
    });
    const manifestDesc = writeSmallBlob(dir, manifest);
    fs.writeFileSync(path.join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(
      path.join(dir, 'index.json'),
      json({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
    );

    const digestFile = path.join(dir, 'pushed-digest');
    const destination = `docker://${registry.host}/${options.repository}:${tag}`;
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${dir}:${tag}`, destination], {
      timeout: 600_000,
    });
    const digest = fs.readFileSync(digestFile, 'utf8').trim();
    return await describePushed(registry.host, options.repository, digest, layers);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Overwrites the bytes a registry's filesystem storage holds under `digest` (a manifest or a
 * blob): the registry then serves them under that digest, as a broken or hostile mirror would.
 */
export function tamperBlob(registry: { storageDir: string }, digest: string, bytes: Buffer): void {
  const hex = digest.replace(/^sha256:/, '');
  const file = path.join(registry.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  if (!fs.existsSync(file)) throw new Error(`the registry at ${registry.storageDir} holds no ${digest}`);
  fs.writeFileSync(file, bytes);
}

/** What the registry holds, read back: skopeo may have written the manifest its own way. */
async function describePushed(host: string, repository: string, digest: string, built: RandomImageLayer[]): Promise<RandomImage> {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${digest}`, {
    headers: { Accept: [OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ') },
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`the registry at ${host} answered ${res.status} for ${repository}@${digest}: ${body.toString('utf8', 0, 500)}`);
  if (sha256(body) !== digest) throw new Error(`the registry at ${host} serves ${repository}@${digest} as bytes that hash to ${sha256(body)}`);
  const manifest = JSON.parse(body.toString('utf8')) as { config: { size: number }; layers: Array<{ digest: string; size: number }> };
  const layers = manifest.layers.map((l, i) => ({ digest: l.digest, size: l.size, diffId: built[i]!.diffId }));
  return {
    ref: `${host}/${repository}@${digest}`,
    digest,
    repository,
    compressedBytes: manifest.config.size + layers.reduce((sum, l) => sum + l.size, 0),
    layers,
  };
}

/** Streams a tar through gzip into the layout's blobs, hashing both sides. */
async function writeBlob(dir: string, tar: AsyncIterable<Buffer>, level: number): Promise<RandomImageLayer> {
  const diffHash = crypto.createHash('sha256');
  const digestHash = crypto.createHash('sha256');
  let size = 0;
  const tmp = path.join(dir, 'blobs', `partial-${crypto.randomUUID()}`);
  const tapTar = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      diffHash.update(chunk);
      yield chunk;
    }
  };
  const tapGzip = new Transform({
    transform(chunk: Buffer, _enc, done) {
      digestHash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(tar, tapTar, zlib.createGzip({ level }), tapGzip, fs.createWriteStream(tmp));
  const digest = 'sha256:' + digestHash.digest('hex');
  fs.renameSync(tmp, path.join(dir, 'blobs', 'sha256', digest.slice(7)));
  return { digest, size, diffId: 'sha256:' + diffHash.digest('hex') };
}

function writeSmallBlob(dir: string, data: Buffer): { digest: string; size: number } {
  const digest = sha256(data);
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** The runnable root: busybox, /bin/sh, a /tmp, and the seed (so that each seed's root layer is its own). */
async function* rootTar(seed: string): AsyncGenerator<Buffer> {
  const busybox = fs.readFileSync(BUSYBOX!);
  const stamp = Buffer.from(`offshift random image, seed ${seed}\n`);
  yield tarHeader('bin/', { type: 'dir', mode: 0o755 });
  yield* tarFile('bin/busybox', busybox, 0o755);
  yield tarHeader('bin/sh', { type: 'symlink', linkname: 'busybox' });
  yield tarHeader('etc/', { type: 'dir', mode: 0o755 });
  yield* tarFile('etc/offshift-image', stamp, 0o644);
  yield tarHeader('tmp/', { type: 'dir', mode: 0o1777 });
  yield Buffer.alloc(1024);
}

/** One file of `bytes` pseudo-random bytes: AES-256-CTR's keystream under a key from the seed (fast, incompressible). */
async function* randomTar(seed: string, index: number, bytes: number): AsyncGenerator<Buffer> {
  const key = crypto.createHash('sha256').update(`offshift random image\0${seed}\0${index}`).digest();
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  yield tarHeader('random/', { type: 'dir', mode: 0o755 });
  yield tarHeader(`random/layer-${index}.bin`, { type: 'file', mode: 0o644, size: bytes });
  for (let left = bytes; left > 0; left -= CHUNK) yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
  yield padding(bytes);
  yield Buffer.alloc(1024);
}

function* tarFile(name: string, data: Buffer, mode: number): Generator<Buffer> {
  yield tarHeader(name, { type: 'file', mode, size: data.length });
  yield data;
  yield padding(data.length);
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A ustar header: owned by root, dated 1970 (so the same content gives the same bytes). */
function tarHeader(name: string, entry: { type: 'file' | 'dir' | 'symlink'; mode?: number; size?: number; linkname?: string }): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(entry.mode ?? 0o777, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  writeSize(h, entry.size ?? 0);
  h.write(octal(0, 12), 136);
  h.write({ file: '0', dir: '5', symlink: '2' }[entry.type], 156);
  if (entry.linkname) h.write(entry.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('root', 265);
  h.write('root', 297);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** Sizes of 8 GiB and more do not fit 11 octal digits: GNU tar's base-256 form (high bit set). */
function writeSize(h: Buffer, size: number): void {
  if (size < 8 ** 11) {
    h.write(octal(size, 12), 124);
    return;
  }
  h.fill(0, 124, 136);
  h[124] = 0x80;
  let rest = BigInt(size);
  for (let i = 135; i > 124; i--) {
    h[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function sha256(data: Buffer): string {
  return 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
}
