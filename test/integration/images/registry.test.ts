import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { parseImageRef, readManifest } from '../../../runtime/images/registry.js';
import { canPushRandomImages, pushRandomImage, tamperBlob, type RandomImage } from '../../helpers/random-image.js';
import { registryAvailable, startRegistry, type Registry } from '../../helpers/registry.js';
import { dockerAvailable } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';

// The agent's registry client against real registries (Distribution): an origin, and a second
// one in pull-through mode as the mirror; the Docker engine pulls what the client points it at.

const run = promisify(execFile);
const skipReason = registryAvailable() ?? canPushRandomImages() ?? (dockerAvailable() ? null : 'the Docker engine is not reachable');
const REPO = 'offshift-test/app';
const MiB = 1024 * 1024;
// A new seed each run: the engine must hold none of these layers, or it would not fetch them.
const runId = crypto.randomUUID().slice(0, 8);

let origin: Registry;
let mirror: Registry;
let image: RandomImage;
const pulled = new Set<string>();

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { timeout: 120_000 })).stdout.trim();
}

async function pull(ref: string): Promise<void> {
  pulled.add(ref);
  await docker('pull', '--quiet', ref);
}

/** Whether the mirror's storage holds every blob of `image` (a pull-through cache stores them as it serves them). */
function mirrorHoldsAll(img: RandomImage): boolean {
  return img.layers.every((l) => {
    const hex = l.digest.slice(7);
    const file = path.join(mirror.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    return fs.existsSync(file) && fs.statSync(file).size === l.size;
  });
}

describe.skipIf(skipReason !== null)('the registry client against real registries', () => {
  beforeAll(async () => {
    origin = await startRegistry();
    mirror = await startRegistry({ proxyOf: origin.url });
    image = await pushRandomImage(origin, { repository: REPO, layerBytes: [1 * MiB, 2 * MiB], seed: `registry-${runId}` });
  });
  afterAll(async () => {
    for (const ref of pulled) await docker('rmi', '--force', ref).catch(() => {});
    await mirror?.remove();
    await origin?.remove();
  });

  it('reads a pushed image from its registry: layers, sizes and diff_ids as pushed; the same seed pushes the same digest', async () => {
    const facts = await readManifest(parseImageRef(image.ref), { mirror: null });
    expect(facts).toMatchObject({
      digest: image.digest,
      layers: image.layers.map((l) => ({ digest: l.digest, sizeBytes: l.size, diffId: l.diffId })),
      configDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      compressedBytes: image.compressedBytes,
      source: 'origin',
      pullRef: image.ref,
      mirrorProblem: null,
    });
    expect(facts.layers).toHaveLength(3); // the busybox root and the two random layers
    expect(facts.layers[2]!.sizeBytes).toBeGreaterThan(2 * MiB);
    const again = await pushRandomImage(origin, { repository: REPO, layerBytes: [1 * MiB, 2 * MiB], seed: `registry-${runId}` });
    expect(again.digest).toBe(image.digest);
  });

  it('uses a mirror that is up: the engine pulls from it and reports the same digest, and the image runs', async () => {
    const facts = await readManifest(parseImageRef(image.ref), { mirror: mirror.host });
    expect(facts).toMatchObject({ source: 'mirror', pullRef: `${mirror.host}/${REPO}@${image.digest}`, mirrorProblem: null, compressedBytes: image.compressedBytes });

    await pull(facts.pullRef);
    const repoDigests = JSON.parse(await docker('image', 'inspect', '--format', '{{json .RepoDigests}}', facts.pullRef)) as string[];
    expect(repoDigests).toContain(facts.pullRef);
    expect(await docker('run', '--rm', facts.pullRef, 'sh', '-c', 'echo ok')).toBe('ok');
    // The engine fetched every blob, config included, from the mirror; readManifest read the config once more.
    const configBytes = image.compressedBytes - image.layers.reduce((sum, l) => sum + l.size, 0);
    await until('the mirror logs the pull', () => mirror.servedBlobBytes(REPO) === image.compressedBytes + configBytes, 10_000, {
      detail: () => `${mirror.servedBlobBytes(REPO)} of ${image.compressedBytes + configBytes}`,
    });
  });

  it('keeps working from the mirror with the origin stopped, for what the mirror cached', async () => {
    await until('the mirror stores the blobs it served', () => mirrorHoldsAll(image), 15_000);
    await docker('rmi', '--force', `${mirror.host}/${REPO}@${image.digest}`);
    await origin.stop();
    try {
      const facts = await readManifest(parseImageRef(image.ref), { mirror: mirror.host, timeoutMs: 5_000 });
      expect(facts).toMatchObject({ source: 'mirror', mirrorProblem: null, compressedBytes: image.compressedBytes });
      await pull(facts.pullRef);
      expect(await docker('run', '--rm', facts.pullRef, 'sh', '-c', 'echo ok')).toBe('ok');
    } finally {
      await origin.restart();
    }
  });

  it('falls back to the origin when the mirror is down, saying why', async () => {
    await mirror.stop();
    try {
      const facts = await readManifest(parseImageRef(image.ref), { mirror: `http://${mirror.host}`, timeoutMs: 5_000 });
      expect(facts).toMatchObject({ source: 'origin', pullRef: image.ref, compressedBytes: image.compressedBytes });
      expect(facts.mirrorProblem).toMatch(new RegExp(`^The registry mirror ${mirror.host} was not used \\(the connection was refused.*the image comes from ${origin.host} instead\\.$`));
    } finally {
      await mirror.restart();
    }
  });

  it('passes over a mirror that serves other bytes under the digest, and never accepts them, even with the origin down', async () => {
    const original = Buffer.from(await (await fetch(`${origin.url}/v2/${REPO}/manifests/${image.digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer());
    const doctored = JSON.parse(original.toString('utf8')) as Record<string, unknown>;
    doctored.annotations = { 'org.opencontainers.image.description': 'not what was pinned' };
    tamperBlob(mirror, image.digest, Buffer.from(JSON.stringify(doctored)));
    try {
      // The mirror really serves the doctored manifest under the pinned digest.
      const served = Buffer.from(await (await fetch(`${mirror.url}/v2/${REPO}/manifests/${image.digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer());
      expect(served.toString('utf8')).toContain('not what was pinned');

      const facts = await readManifest(parseImageRef(image.ref), { mirror: mirror.host });
      expect(facts).toMatchObject({ source: 'origin', pullRef: image.ref });
      expect(facts.mirrorProblem).toMatch(/was not used \(the bytes it served as sha256:[0-9a-f]{64} hash to sha256:[0-9a-f]{64}\)/);

      await origin.stop();
      let error: unknown = null;
      try {
        await readManifest(parseImageRef(image.ref), { mirror: mirror.host, timeoutMs: 5_000 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AppError);
      expect(['image-digest-mismatch', 'image-unreadable']).toContain((error as AppError).code);
      expect((error as AppError).message).toContain(`The registry mirror ${mirror.host} could not serve it either`);
    } finally {
      tamperBlob(mirror, image.digest, original);
      await origin.restart();
    }
  });

  it('counts the blob bytes a pull fetched: pulled, removed and pulled again is twice the image', async () => {
    const repo = 'offshift-test/counted';
    const counted = await pushRandomImage(origin, { repository: repo, layerBytes: [3 * MiB], seed: `counted-${runId}` });
    expect(origin.servedBlobBytes(repo)).toBe(0); // a push serves no blob
    await pull(counted.ref);
    await until('the first pull logged', () => origin.servedBlobBytes(repo) === counted.compressedBytes, 10_000, {
      detail: () => `${origin.servedBlobBytes(repo)} of ${counted.compressedBytes}`,
    });
    await docker('rmi', '--force', counted.ref);
    await pull(counted.ref);
    await until('the second pull logged', () => origin.servedBlobBytes(repo) === 2 * counted.compressedBytes, 10_000, {
      detail: () => `${origin.servedBlobBytes(repo)} of ${2 * counted.compressedBytes}`,
    });
    expect(origin.servedBlobBytes()).toBeGreaterThanOrEqual(2 * counted.compressedBytes);
    expect(origin.requests().some((r) => r.method === 'GET' && r.uri === `/v2/${repo}/manifests/${counted.digest}` && r.status === 200)).toBe(true);
  });
});
