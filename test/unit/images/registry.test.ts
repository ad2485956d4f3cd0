import crypto from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { forgetTokens } from '../../../runtime/images/registry-auth.js';
import { parseImageRef, readManifest, type RegistryOptions } from '../../../runtime/images/registry.js';

// A registry in a fetch function: each test says what each URL answers.

const sha = (b: Buffer | string) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

interface FakeImage {
  manifest: Buffer;
  digest: string;
  config: Buffer;
  configDigest: string;
  layers: Array<{ digest: string; size: number; diffId: string }>;
}

function fakeImage(seed: string, sizes = [1000, 2000]): FakeImage {
  const layers = sizes.map((size, i) => ({ digest: sha(`${seed}-layer-${i}`), size, diffId: sha(`${seed}-diff-${i}`) }));
  const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
  });
  return { manifest, digest: sha(manifest), config, configDigest: sha(config), layers };
}

type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;

/** A fetch that answers from `routes` (full URL without query → handler) and records each call. */
function fakeFetch(routes: Record<string, Handler>) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const fn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    calls.push({ url: url.toString(), headers: { ...(init.headers as Record<string, string>) } });
    const handler = routes[url.origin + url.pathname];
    if (!handler) return new Response('{"errors":[{"code":"NAME_UNKNOWN"}]}', { status: 404 });
    return handler(url, init);
  }) as typeof fetch;
  return { fetch: fn, calls };
}

function serve(base: string, repository: string, image: FakeImage, override: { manifest?: Buffer; config?: Buffer } = {}): Record<string, Handler> {
  return {
    [`${base}/v2/${repository}/manifests/${image.digest}`]: () => new Response(override.manifest ?? image.manifest, { headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' } }),
    [`${base}/v2/${repository}/blobs/${image.configDigest}`]: () => new Response(override.config ?? image.config),
  };
}

function refused(): never {
  throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5000'), { code: 'ECONNREFUSED' }) });
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError');
}

const img = fakeImage('one');
const origin = 'https://registry.example.com';
const ref = parseImageRef(`registry.example.com/team/app@${img.digest}`);

beforeEach(() => forgetTokens());

describe('readManifest from the image’s own registry', () => {
  it('reads layers, sizes and diff_ids over HTTPS, with the manifest media types in Accept', async () => {
    const f = fakeFetch(serve(origin, 'team/app', img));
    const facts = await readManifest(ref, { mirror: null, fetch: f.fetch });
    expect(facts).toMatchObject({
      digest: img.digest,
      layers: img.layers.map((l) => ({ digest: l.digest, sizeBytes: l.size, diffId: l.diffId })),
      configDigest: img.configDigest,
      compressedBytes: img.config.length + 3000,
      source: 'origin',
      pullRef: `registry.example.com/team/app@${img.digest}`,
      mirrorProblem: null,
    });
    const accept = f.calls[0]!.headers.Accept!;
    for (const t of ['oci.image.manifest.v1', 'oci.image.index.v1', 'docker.distribution.manifest.v2', 'docker.distribution.manifest.list.v2']) expect(accept).toContain(t);
  });

  it('speaks plain HTTP to a loopback registry', async () => {
    const local = fakeImage('local');
    const f = fakeFetch(serve('http://127.0.0.1:5000', 'app', local));
    const facts = await readManifest(parseImageRef(`127.0.0.1:5000/app@${local.digest}`), { mirror: null, fetch: f.fetch });
    expect(facts.pullRef).toBe(`127.0.0.1:5000/app@${local.digest}`);
    expect(f.calls.every((c) => c.url.startsWith('http://127.0.0.1:5000/'))).toBe(true);
  });

  it('takes an anonymous Bearer token from the realm the 401 names, and keeps it for the repository (Docker Hub)', async () => {
    const hub = fakeImage('hub');
    const token = 'tok-' + 'x'.repeat(20);
    const routes = serve('https://registry-1.docker.io', 'library/ubuntu', hub);
    const guarded: Record<string, Handler> = {};
    for (const [url, handler] of Object.entries(routes)) {
      guarded[url] = (u, init) =>
        (init.headers as Record<string, string>).Authorization === `Bearer ${token}`
          ? handler(u, init)
          : new Response('{}', {
              status: 401,
              headers: { 'WWW-Authenticate': 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"' },
            });
    }
    guarded['https://auth.docker.io/token'] = (u) => {
      expect(u.searchParams.get('service')).toBe('registry.docker.io');
      expect(u.searchParams.get('scope')).toBe('repository:library/ubuntu:pull');
      return new Response(JSON.stringify({ token, expires_in: 300 }));
    };
    const f = fakeFetch(guarded);
    const given = `ubuntu@${hub.digest}`;
    const facts = await readManifest(parseImageRef(given), { mirror: null, fetch: f.fetch });
    expect(facts.pullRef).toBe(given);
    expect(facts.layers).toHaveLength(2);
    await readManifest(parseImageRef(given), { mirror: null, fetch: f.fetch });
    expect(f.calls.filter((c) => c.url.startsWith('https://auth.docker.io/'))).toHaveLength(1);
    expect(f.calls.every((c) => c.url.startsWith('https://registry-1.docker.io/') || c.url.startsWith('https://auth.docker.io/'))).toBe(true);
  });

  it('resolves an index to its linux/amd64 image, verifying the child manifest too', async () => {
    const amd = fakeImage('amd64');
    const arm = fakeImage('arm64');
    const index = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { digest: amd.digest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: sha('attestation'), size: 10, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    });
    const indexRef = parseImageRef(`registry.example.com/team/multi@${sha(index)}`);
    const routes = { ...serve(origin, 'team/multi', amd), [`${origin}/v2/team/multi/manifests/${sha(index)}`]: () => new Response(index) };
    const facts = await readManifest(indexRef, { mirror: null, fetch: fakeFetch(routes).fetch });
    expect(facts.digest).toBe(sha(index));
    expect(facts.configDigest).toBe(amd.configDigest);
    expect(facts.layers.map((l) => l.diffId)).toEqual(amd.layers.map((l) => l.diffId));

    const lying = { ...routes, [`${origin}/v2/team/multi/manifests/${amd.digest}`]: () => new Response(arm.manifest) };
    expect((await failure(readManifest(indexRef, { mirror: null, fetch: fakeFetch(lying).fetch }))).code).toBe('image-digest-mismatch');

    const armOnly = json({ schemaVersion: 2, manifests: [{ digest: arm.digest, size: 1, platform: { os: 'linux', architecture: 'arm64' } }] });
    const armRef = parseImageRef(`registry.example.com/team/multi@${sha(armOnly)}`);
    const e = await failure(readManifest(armRef, { mirror: null, fetch: fakeFetch({ [`${origin}/v2/team/multi/manifests/${sha(armOnly)}`]: () => new Response(armOnly) }).fetch }));
    expect(e.code).toBe('image-unreadable');
    expect(e.message).toContain('no linux/amd64 image (it has linux/arm64)');
  });

  it('refuses a manifest or config whose bytes do not hash to their digest: image-digest-mismatch', async () => {
    const other = fakeImage('other');
    let e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch(serve(origin, 'team/app', img, { manifest: other.manifest })).fetch }));
    expect(e.code).toBe('image-digest-mismatch');
    expect(e.message).toContain('registry.example.com');
    e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch(serve(origin, 'team/app', img, { config: other.config })).fetch }));
    expect(e.code).toBe('image-digest-mismatch');
  });

  it('says what to check when the registry is unreachable, lacks the image or wants a login: image-unreadable', async () => {
    let e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch({}).fetch }));
    expect(e.code).toBe('image-unreadable');
    expect(e.message).toMatch(/registry\.example\.com: it has no team\/app@sha256:[0-9a-f]{64} \(404\)\. Check the image reference/);
    e = await failure(readManifest(ref, { mirror: null, fetch: refused as unknown as typeof fetch }));
    expect(e.message).toContain('the connection was refused');
    expect(e.message).toContain('Check that this computer reaches registry.example.com');
    const basic: Handler = () => new Response('', { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } });
    e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch({ [`${origin}/v2/team/app/manifests/${img.digest}`]: basic }).fetch }));
    expect(e.message).toContain('asks for a login');
    expect(e.message).toContain('must be public');
  });

  it('reads no more than 4 MiB of a manifest, with or without a Content-Length', async () => {
    let pulled = 0;
    const endless: Handler = () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            pulled += 64 * 1024;
            controller.enqueue(new Uint8Array(64 * 1024));
          },
        }),
      );
    let e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch({ [`${origin}/v2/team/app/manifests/${img.digest}`]: endless }).fetch }));
    expect(e.message).toContain('larger than 4 MiB');
    expect(pulled).toBeLessThan(5 * 1024 * 1024);
    const declared: Handler = () => new Response('{}', { headers: { 'Content-Length': String(64 * 1024 * 1024) } });
    e = await failure(readManifest(ref, { mirror: null, fetch: fakeFetch({ [`${origin}/v2/team/app/manifests/${img.digest}`]: declared }).fetch }));
    expect(e.message).toContain('larger than 4 MiB');
  });
});

describe('readManifest through a registry mirror', () => {
  const mirrorBase = 'https://mirror.studio.lan:5000';
  const options = (routes: Record<string, Handler>, more: Partial<RegistryOptions> = {}) => {
    const f = fakeFetch(routes);
    return { f, options: { mirror: 'mirror.studio.lan:5000', fetch: f.fetch, ...more } };
  };

  it('uses the mirror when it serves the pinned bytes: same repository path, pullRef on the mirror', async () => {
    const { f, options: o } = options({ ...serve(mirrorBase, 'team/app', img) });
    const facts = await readManifest(ref, o);
    expect(facts).toMatchObject({ source: 'mirror', pullRef: `mirror.studio.lan:5000/team/app@${img.digest}`, mirrorProblem: null });
    expect(f.calls.every((c) => c.url.startsWith(mirrorBase))).toBe(true);
  });

  it('http:// makes a mirror plain HTTP; a bare loopback mirror is plain HTTP too', async () => {
    const lan = options(serve('http://10.0.0.5:5000', 'team/app', img), { mirror: 'http://10.0.0.5:5000/' });
    expect((await readManifest(ref, lan.options)).pullRef).toBe(`10.0.0.5:5000/team/app@${img.digest}`);
    const loopback = options(serve('http://127.0.0.1:5001', 'team/app', img), { mirror: '127.0.0.1:5001' });
    expect((await readManifest(ref, loopback.options)).source).toBe('mirror');
    expect(loopback.f.calls[0]!.url.startsWith('http://127.0.0.1:5001/v2/team/app/manifests/')).toBe(true);
  });

  it('falls back to the origin, saying why, when the mirror is down, erroring, lacks the image or serves other bytes', async () => {
    const other = fakeImage('other');
    const cases: Array<[string, Record<string, Handler>, RegExp]> = [
      ['refused', { [`${mirrorBase}/v2/team/app/manifests/${img.digest}`]: refused }, /connection was refused/],
      ['503', { [`${mirrorBase}/v2/team/app/manifests/${img.digest}`]: () => new Response('', { status: 503 }) }, /answered 503/],
      ['404', {}, /has no team\/app@sha256:[0-9a-f]{64} \(404\)/],
      ['tampered manifest', serve(mirrorBase, 'team/app', img, { manifest: other.manifest }), /hash to sha256:/],
      ['tampered config', serve(mirrorBase, 'team/app', img, { config: other.config }), /hash to sha256:/],
    ];
    for (const [name, mirrorRoutes, why] of cases) {
      const { options: o } = options({ ...mirrorRoutes, ...serve(origin, 'team/app', img) });
      const facts = await readManifest(ref, o);
      expect(facts.source, name).toBe('origin');
      expect(facts.pullRef, name).toBe(`registry.example.com/team/app@${img.digest}`);
      expect(facts.mirrorProblem, name).toMatch(why);
      expect(facts.mirrorProblem, name).toContain('mirror.studio.lan:5000 was not used');
    }
  });

  it('falls back when the mirror does not answer in time', async () => {
    const silent: Handler = (_u, init) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    const { options: o } = options({ [`${mirrorBase}/v2/team/app/manifests/${img.digest}`]: silent, ...serve(origin, 'team/app', img) }, { timeoutMs: 100 });
    const facts = await readManifest(ref, o);
    expect(facts.source).toBe('origin');
    expect(facts.mirrorProblem).toContain('no answer within 0.1 s');
  });

  it('never accepts other bytes: a tampered mirror and an unreachable origin is an error naming both', async () => {
    const other = fakeImage('other');
    const { options: o } = options({ ...serve(mirrorBase, 'team/app', img, { manifest: other.manifest }), [`${origin}/v2/team/app/manifests/${img.digest}`]: refused });
    const e = await failure(readManifest(ref, o));
    expect(e.code).toBe('image-unreadable');
    expect(e.message).toContain('registry.example.com: the connection was refused');
    expect(e.message).toContain('The registry mirror mirror.studio.lan:5000 could not serve it either');
  });

  it("passes the caller's abort through, without falling back", async () => {
    const controller = new AbortController();
    const silent: Handler = (_u, init) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    const { f, options: o } = options({ [`${mirrorBase}/v2/team/app/manifests/${img.digest}`]: silent, ...serve(origin, 'team/app', img) }, { signal: controller.signal });
    const reading = readManifest(ref, o);
    setTimeout(() => controller.abort(), 20);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(f.calls.some((c) => c.url.startsWith(origin))).toBe(false);
  });
});
