/**
 * The agent's registry client: what an image pinned by digest is made of (its layers, their
 * sizes and diff_ids), read from the registry mirror when one is set and serves it faithfully,
 * otherwise from the image's own registry. Every manifest and the config are checked against
 * their digests; a mirror that is down, lacks the image or serves other bytes is passed over.
 */
import crypto from 'node:crypto';
import { DOCKER_HUB, parseImageRef, type ImageRef } from './image-ref.js';
import { MANIFEST_ACCEPT, parseDiffIds, parseManifest, pickLinuxAmd64, unusable } from './manifest.js';
import { authorizedGet } from './registry-auth.js';
import { RegistryFailure, mirrorProblem, originFailed } from './registry-errors.js';
import { failureForStatus, mirrorEndpoint, originEndpoint, type Endpoint, type HttpOptions } from './registry-http.js';

export { parseImageRef, type ImageRef } from './image-ref.js';

const MANIFEST_CAP = 4 * 1024 * 1024;
const CONFIG_CAP = 8 * 1024 * 1024;

export interface ManifestLayer {
  digest: string;
  sizeBytes: number;
  diffId: string;
}

export interface ManifestFacts {
  /** The pinned digest (verified: sha256 of the manifest bytes as served). */
  digest: string;
  /** Of the linux/amd64 image (an index is resolved to that platform, its child digest verified too). */
  layers: ManifestLayer[];
  configDigest: string;
  /** Config and all layers, as the manifest states. */
  compressedBytes: number;
  source: 'origin' | 'mirror';
  /** The ref to hand the engine: `<mirror host>/<repository>@<digest>`, or the origin's (for Docker Hub, the ref as given). */
  pullRef: string;
  /** Why the mirror was not used (down, refused the digest, served bytes that do not hash to it); null when it was used or none is set. */
  mirrorProblem: string | null;
  /** The verified manifests (an index and its linux/amd64 child, or the one manifest) and the config, by digest: what the local relay serves the engine. */
  documents: Map<string, { bytes: Buffer; mediaType: string }>;
  /** Opens a layer of this image at the registry that served the manifest, from `offset` on (a Range request). */
  openBlob: (digest: string, offset: number, signal: AbortSignal) => Promise<{ status: number; body: AsyncIterable<Uint8Array> }>;
}

export interface RegistryOptions {
  /** 'host:port', 'http://host:port' or 'https://…'; null: none. */
  mirror: string | null;
  /** For each request to a registry (default 15000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

type ImageFacts = Omit<ManifestFacts, 'source' | 'pullRef' | 'mirrorProblem' | 'openBlob'>;

/** A layer download has no deadline of its own (GBs take long): the blob cache cuts it after a silence instead. */
const BLOB_TIMEOUT_MS = 24 * 3600_000;

export async function readManifest(ref: ImageRef, options: RegistryOptions): Promise<ManifestFacts> {
  // Checked again: the parts go into URLs.
  parseImageRef(`${ref.registry}/${ref.repository}@${ref.digest}`);
  const http: HttpOptions = { timeoutMs: options.timeoutMs ?? 15_000, signal: options.signal, fetch: options.fetch ?? globalThis.fetch };
  const origin = originEndpoint(ref.registry);
  let mirrorFailure: { host: string; failure: RegistryFailure } | null = null;

  if (options.mirror) {
    let mirror: Endpoint = { host: options.mirror, base: options.mirror };
    try {
      mirror = mirrorEndpoint(options.mirror);
      const facts = await readImage(mirror, ref, http);
      return { ...facts, source: 'mirror', pullRef: `${mirror.host}/${ref.repository}@${ref.digest}`, mirrorProblem: null, openBlob: blobOpener(mirror, ref.repository, http) };
    } catch (error) {
      if (!(error instanceof RegistryFailure)) throw error;
      mirrorFailure = { host: mirror.host, failure: error };
    }
  }

  try {
    const facts = await readImage(origin, ref, http);
    const pullRef = ref.registry === DOCKER_HUB ? ref.ref : `${ref.registry}/${ref.repository}@${ref.digest}`;
    return { ...facts, source: 'origin', pullRef, mirrorProblem: mirrorFailure ? mirrorProblem(mirrorFailure.host, origin.host, mirrorFailure.failure) : null, openBlob: blobOpener(origin, ref.repository, http) };
  } catch (error) {
    if (error instanceof RegistryFailure) throw originFailed(ref, origin.host, error, mirrorFailure);
    throw error;
  }
}

function blobOpener(endpoint: Endpoint, repository: string, http: HttpOptions): ManifestFacts['openBlob'] {
  return async (digest, offset, signal) => {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const answer = await authorizedGet(endpoint, repository, `/v2/${repository}/blobs/${digest}`, headers, { ...http, timeoutMs: BLOB_TIMEOUT_MS, signal });
    if (answer.status !== 200 && answer.status !== 206) {
      await answer.discard();
      throw failureForStatus(answer.status, `the layer ${digest} of ${repository}`);
    }
    return { status: answer.status, body: answer.stream() };
  };
}

/** The media type a registry gave a manifest, else the one its body names. */
function mediaTypeOf(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
    return parsed.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return 'application/vnd.oci.image.manifest.v1+json';
  }
}

async function readImage(endpoint: Endpoint, ref: ImageRef, http: HttpOptions): Promise<ImageFacts> {
  const documents = new Map<string, { bytes: Buffer; mediaType: string }>();
  const top = await getVerified(endpoint, ref.repository, 'manifests', ref.digest, http);
  documents.set(ref.digest, { bytes: top, mediaType: mediaTypeOf(top) });
  let manifest = parseManifest(top, ref.ref);
  if (manifest.kind === 'index') {
    const child = pickLinuxAmd64(manifest.manifests, ref.ref);
    const childBytes = await getVerified(endpoint, ref.repository, 'manifests', child, http);
    documents.set(child, { bytes: childBytes, mediaType: mediaTypeOf(childBytes) });
    manifest = parseManifest(childBytes, ref.ref);
    if (manifest.kind === 'index') throw unusable(ref.ref, 'its linux/amd64 entry is another index, not an image');
  }
  const config = await getVerified(endpoint, ref.repository, 'blobs', manifest.config.digest, http);
  documents.set(manifest.config.digest, { bytes: config, mediaType: 'application/octet-stream' });
  const diffIds = parseDiffIds(config, manifest.layers.length, ref.ref);
  const layers = manifest.layers.map((l, i) => ({ digest: l.digest, sizeBytes: l.size, diffId: diffIds[i]! }));
  return {
    digest: ref.digest,
    layers,
    configDigest: manifest.config.digest,
    compressedBytes: manifest.config.size + layers.reduce((sum, l) => sum + l.sizeBytes, 0),
    documents,
  };
}

/** A manifest or blob, refused unless its bytes hash to `digest`. */
async function getVerified(endpoint: Endpoint, repository: string, kind: 'manifests' | 'blobs', digest: string, http: HttpOptions): Promise<Buffer> {
  const what = kind === 'manifests' ? `${repository}@${digest}` : `the config ${digest} of ${repository}`;
  const headers: Record<string, string> = kind === 'manifests' ? { Accept: MANIFEST_ACCEPT } : {};
  const answer = await authorizedGet(endpoint, repository, `/v2/${repository}/${kind}/${digest}`, headers, http);
  if (answer.status !== 200) {
    await answer.discard();
    throw failureForStatus(answer.status, what);
  }
  const body = await answer.read(kind === 'manifests' ? MANIFEST_CAP : CONFIG_CAP, kind === 'manifests' ? 'manifest' : 'image config');
  const actual = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
  if (actual !== digest) throw new RegistryFailure('mismatch', `the bytes it served as ${digest} hash to ${actual}`);
  return body;
}
