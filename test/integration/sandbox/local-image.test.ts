/**
 * Images made on this machine from a program the build made (runtime/sandbox/local-image.ts), on
 * the real engine: the output keeper's image made of dist/output-keeper/keeper (a copy with a
 * unique tail, so that each run really makes one), its configuration, reuse by content, made
 * again after `docker rmi`, one import for concurrent callers, and the errors a person sees.
 */
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDocker } from '../../../runtime/engine/index.js';
import { ensureKeeperImage, findKeeperBinary, KEEPER_IMAGE_LABEL, KEEPER_IMAGE_REPO } from '../../../runtime/sandbox/keeper-image.js';
import { ensureLocalImage, localImageHash, type LocalImageRecipe } from '../../../runtime/sandbox/local-image.js';
import { dockerAvailable } from '../../helpers/test-images.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const hasDocker = dockerAvailable();
if (!hasDocker) console.warn('[local-image.test] the engine tests are skipped: the Docker engine is not reachable.');

describe('localImageHash', () => {
  it('changes with any byte, mode, name or setting of the image, and only then', () => {
    const base: LocalImageRecipe['files'] = [{ name: 'bin', mode: 0o755, data: Buffer.from('abc') }];
    const h = localImageHash({ files: base, user: '65534:65534', entrypoint: ['/bin'] });
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(localImageHash({ files: [{ name: 'bin', mode: 0o755, data: Buffer.from('abc') }], user: '65534:65534', entrypoint: ['/bin'] })).toBe(h);
    for (const other of [
      { files: [{ name: 'bin', mode: 0o755, data: Buffer.from('abd') }], user: '65534:65534', entrypoint: ['/bin'] },
      { files: [{ name: 'bin', mode: 0o700, data: Buffer.from('abc') }], user: '65534:65534', entrypoint: ['/bin'] },
      { files: [{ name: 'bim', mode: 0o755, data: Buffer.from('abc') }], user: '65534:65534', entrypoint: ['/bin'] },
      { files: [{ name: 'bin', mode: 0o755 }], user: '65534:65534', entrypoint: ['/bin'] },
      { files: base, entrypoint: ['/bin'] },
      { files: base, user: '65534:65534' },
      // The same bytes split differently between two files.
      { files: [{ name: 'bin', mode: 0o755, data: Buffer.from('ab') }, { name: 'c', mode: 0o755, data: Buffer.from('') }], user: '65534:65534', entrypoint: ['/bin'] },
    ])
      expect(localImageHash(other)).not.toBe(h);
  });
});

describe.skipIf(!hasDocker)('local images on the real engine', () => {
  const docker = connectDocker();
  let dir: string;
  let variant: string;
  const made = new Set<string>();

  beforeAll(() => {
    const found = findKeeperBinary();
    if (!found) throw new Error('dist/output-keeper/keeper is missing: run npm run build first (npm test does).');
    dir = makeTempDir('offshift-local-image-');
    // A copy with a unique tail (ignored by the loader): its own hash, so this run really makes an image.
    variant = path.join(dir, 'keeper');
    fs.writeFileSync(variant, Buffer.concat([fs.readFileSync(found), Buffer.from(`\n${process.pid}-${Date.now()}\n`)]), { mode: 0o755 });
  });
  afterAll(async () => {
    for (const id of made) await docker.getImage(id).remove({ force: true }).catch(() => {});
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("makes the keeper's image of the one binary (non-root, its entry point, labelled and tagged by content), reuses it, and makes it again once removed", async () => {
    const id = await ensureKeeperImage(docker, variant);
    made.add(id);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const info = await docker.getImage(id).inspect();
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Entrypoint).toEqual(['/keeper']);
    const hash = info.Config.Labels?.[KEEPER_IMAGE_LABEL];
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(info.RepoTags).toEqual([`${KEEPER_IMAGE_REPO}:${hash!.slice(0, 12)}`]);
    // FROM scratch: one layer, the binary alone.
    expect(info.RootFS.Layers).toHaveLength(1);
    expect(info.Size).toBeLessThan(fs.statSync(variant).size + 4096);

    expect(await ensureKeeperImage(docker, variant)).toBe(id);

    // docker rmi behind the agent's back: the next job's call makes it again.
    await docker.getImage(id).remove({ force: true });
    const again = await ensureKeeperImage(docker, variant);
    made.add(again);
    expect((await docker.getImage(again).inspect()).Config.Labels?.[KEEPER_IMAGE_LABEL]).toBe(hash);
  }, 60_000);

  it('concurrent callers share one import; a new process (an empty memory) finds the image by its label', async () => {
    const recipe: LocalImageRecipe = {
      what: 'a test image',
      repo: 'offshift-local-image-test',
      label: 'io.offshift.local-image-test',
      files: [{ name: 'etc', mode: 0o755 }, { name: 'etc/hello', mode: 0o644, data: Buffer.from(`hello ${process.pid} ${Date.now()}\n`) }],
      failureCode: 'test-image-failed',
    };
    const all = await Promise.all([ensureLocalImage(docker, recipe), ensureLocalImage(docker, recipe), ensureLocalImage(docker, recipe)]);
    for (const r of all) made.add(r.imageId);
    expect(new Set(all.map((r) => r.imageId)).size).toBe(1);
    expect(all.filter((r) => r.built)).toHaveLength(1);
    const listed = await docker.listImages({ filters: { label: [`${recipe.label}=${localImageHash(recipe)}`] } });
    expect(listed.map((i) => i.Id)).toEqual([all[0]!.imageId]);
    // Another agent process (what a fresh module holds: nothing) finds it without importing.
    vi.resetModules();
    const fresh = await import('../../../runtime/sandbox/local-image.js');
    expect(fresh.ensureLocalImage).not.toBe(ensureLocalImage);
    expect(await fresh.ensureLocalImage(docker, recipe)).toEqual({ imageId: all[0]!.imageId, built: false });
  }, 60_000);

  it('says what to do: a binary not built, an engine out of reach', async () => {
    await expect(ensureKeeperImage(docker, null)).rejects.toMatchObject({ code: 'output-keeper-missing', message: expect.stringMatching(/run npm run build/) });
    await expect(ensureKeeperImage(docker, path.join(dir, 'nonexistent'))).rejects.toMatchObject({ code: 'output-keeper-missing' });
    expect(findKeeperBinary({ OFFSHIFT_OUTPUT_KEEPER_BINARY: '' })).toBeNull();
    expect(findKeeperBinary({ OFFSHIFT_OUTPUT_KEEPER_BINARY: variant })).toBe(variant);
    const nowhere = new Docker({ socketPath: path.join(dir, 'no-engine.sock') });
    await expect(ensureKeeperImage(nowhere, variant)).rejects.toMatchObject({ code: 'docker-unreachable', message: expect.stringMatching(/Start Docker/) });
  });
});
