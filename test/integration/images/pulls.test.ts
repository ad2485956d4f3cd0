/**
 * Pulls on the real engine from real registries: an offer that cannot fit is declined before a
 * byte of a layer is served; a size claim the manifest contradicts and a pull slower than the
 * offer allows are declined; a pull cut short resumes from what it finished (counted at the
 * registry); the mirror serves when the origin is down and is passed over when it lies; the
 * market's demand leads to a pre-pull within the budget, then a warm advertisement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRandomImage, tamperBlob, type RandomImage } from '../../helpers/random-image.js';
import { startRegistry, type Registry } from '../../helpers/registry.js';
import { startSlowLink, type SlowLink } from '../../helpers/slow-link.js';
import { until } from '../../helpers/until.js';
import { makeImagesHarness, removeFromEngine, skipReason, type ImagesHarness } from './harness.js';

const MB = 1024 * 1024;

describe.skipIf(skipReason !== null)('image pulls', () => {
  let origin: Registry;
  const harnesses: ImagesHarness[] = [];
  const pushed: RandomImage[] = [];
  const links: SlowLink[] = [];
  const harness = (...args: Parameters<typeof makeImagesHarness>) => {
    const h = makeImagesHarness(...args);
    harnesses.push(h);
    return h;
  };
  const push = async (repository: string, layerBytes: number[]) => {
    const image = await pushRandomImage(origin, { repository, layerBytes, seed: `${repository}-${Date.now()}` });
    pushed.push(image);
    return image;
  };
  const layerRequests = (registry: Registry, image: RandomImage) => registry.requests().filter((r) => r.method === 'GET' && image.layers.some((l) => r.uri.endsWith(`/blobs/${l.digest}`)));

  beforeAll(async () => {
    origin = await startRegistry();
  });
  afterAll(async () => {
    for (const l of links) await l.close();
    for (const h of harnesses) await h.cleanup();
    if (harnesses[0]) await removeFromEngine(harnesses[0].docker, pushed.map((p) => p.digest));
    await origin?.remove();
  });

  it('declines an offer whose image cannot fit before any layer is served, with the figures; and a size the manifest contradicts', async () => {
    const big = await push('pulls/big', [40 * MB]);
    const h = harness({ budgetGiB: 0.02 });
    const verdict = await h.images.checkOffer(big.ref, {});
    expect(verdict).toMatchObject({ ok: false, reason: 'not-enough-disk' });
    expect((verdict as { detail: string }).detail).toMatch(/Declined before pulling: the image needs about [\d.]+ MB on disk \([\d.]+ MB to download\), but the image budget \([\d.]+ MB/);
    const lied = await h.images.checkOffer(big.ref, { imageSizeBytes: big.compressedBytes - 10 * MB });
    expect(lied).toMatchObject({ ok: false, reason: 'image-size-mismatch' });
    expect((lied as { detail: string }).detail).toContain(`${big.compressedBytes} bytes`);
    await new Promise((r) => setTimeout(r, 500)); // the registry's log catches up
    expect(layerRequests(origin, big)).toEqual([]);
    // A job on it fails the same way, still before a layer is served.
    const job = await h.runner.submit({ image: big.ref, command: ['sh', '-c', 'exit 0'] });
    expect(await h.runner.wait(job.id)).toMatchObject({ state: 'failed', reason: 'not-enough-disk' });
    await new Promise((r) => setTimeout(r, 500));
    expect(layerRequests(origin, big)).toEqual([]);
  });

  it('declines a pull the measured download rate says would take longer than maxPullSeconds', async () => {
    const first = await push('pulls/measure', [16 * MB]);
    const next = await push('pulls/slow-next', [48 * MB]);
    const link = await startSlowLink(origin, 8 * MB);
    links.push(link);
    const h = harness({ budgetGiB: 1 });
    // One pull over the slow link measures this machine's rate.
    const job = await h.runner.submit({ image: `${link.host}/${first.repository}@${first.digest}`, command: ['sh', '-c', 'exit 0'] });
    const done = await h.runner.wait(job.id);
    expect(done.state, JSON.stringify(h.runner.events(job.id))).toBe('succeeded');
    const rate = h.images.downloadRate()!;
    expect(rate).toBeGreaterThan(4 * MB);
    expect(rate).toBeLessThan(12 * MB);
    const slowRef = `${link.host}/${next.repository}@${next.digest}`;
    expect(await h.images.checkOffer(slowRef, { maxPullSeconds: 2 })).toMatchObject({ ok: false, reason: 'pull-too-slow' });
    expect(await h.images.checkOffer(slowRef, { maxPullSeconds: 60 })).toMatchObject({ ok: true });
  }, 60_000);

  it('a pull cut short resumes from what it finished: the registry serves the rest, not the whole image again', async () => {
    const image = await push('pulls/resume', [4 * MB, 4 * MB, 4 * MB, 60 * MB]);
    const link = await startSlowLink(origin, 20 * MB);
    links.push(link);
    const ref = `${link.host}/${image.repository}@${image.digest}`;
    const h = harness({ budgetGiB: 1, pullWhileOwnerActive: false });
    const job = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    // The owner comes back when a good part is down: the job is preempted mid-pull.
    await until('most of the small layers and part of the big one', () => (h.images.cache.totalBytes() > 30 * MB ? true : null), 30_000);
    await h.runner.preemptAll(0, 'Preempted: the owner is back.');
    expect((await h.runner.wait(job.id)).state).toBe('preempted');
    await until('the pull to stop', async () => (await h.images.view()).pulls.length === 0, 10_000);
    const held = image.layers.reduce((sum, l) => sum + h.images.cache.heldBytes(l.digest), 0);
    await new Promise((r) => setTimeout(r, 800));
    const servedBefore = origin.servedBlobBytes(image.repository);
    expect(held).toBeGreaterThan(30 * MB);
    // The next job on the same image.
    const again = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    expect((await h.runner.wait(again.id)).state).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 800));
    const servedAfter = origin.servedBlobBytes(image.repository) - servedBefore;
    const total = image.layers.reduce((sum, l) => sum + l.size, 0);
    console.log(`[images] resume: ${(total / 1e6).toFixed(1)} MB image, ${(held / 1e6).toFixed(1)} MB kept from the cut pull, ${(servedAfter / 1e6).toFixed(1)} MB served for the next`);
    expect(servedAfter).toBeLessThanOrEqual(total - held + MB);
    expect(h.images.cache.totalBytes()).toBe(0); // the engine has the layers now
  }, 120_000);

  it('with downloads allowed while the owner uses the computer, a pull goes on after its job was stopped, and the next job starts warm', async () => {
    const image = await push('pulls/goes-on', [24 * MB]);
    const link = await startSlowLink(origin, 16 * MB);
    links.push(link);
    const ref = `${link.host}/${image.repository}@${image.digest}`;
    const h = harness({ budgetGiB: 1, pullWhileOwnerActive: true });
    const job = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    await until('part of the layer', () => (h.images.cache.totalBytes() > 4 * MB ? true : null), 30_000);
    await h.runner.preemptAll(0, 'Preempted: the owner is back.');
    expect((await h.runner.wait(job.id)).state).toBe('preempted');
    await until('the pull to finish on its own', async () => (await h.images.view()).images.some((i) => i.ref === ref && i.imageId !== null), 30_000);
    const next = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    expect((await h.runner.wait(next.id)).state).toBe('succeeded');
    expect(h.runner.events(next.id).some((e) => e.detail.startsWith('Pulling'))).toBe(false);
  }, 90_000);

  it('pulls through its cache from a source measured slow, and directly from one measured faster than 100 MB/s', async () => {
    const first = await push('pulls/fast-a', [24 * MB]);
    const second = await push('pulls/fast-b', [24 * MB]);
    const slow = await push('pulls/fast-c', [12 * MB]);
    const h = harness({ budgetGiB: 1 });
    const run = async (ref: string) => expect((await h.runner.wait((await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] })).id)).state).toBe('succeeded');
    const via = () => h.logs.filter((l) => l.msg === 'pulling an image').map((l) => l.via);
    // The first pull from the registry on this machine measures it; past 100 MB/s the next goes straight to the engine.
    await run(first.ref);
    const rate = h.images.downloadRate()!;
    await run(second.ref);
    console.log(`[images] the registry on loopback measured ${(rate / 1e6).toFixed(0)} MB/s through the cache`);
    expect(via()).toEqual(['relay', rate >= 100e6 ? 'engine' : 'relay']);
    // The same registry behind a slow link is another source: measured slow, it stays on the cache.
    const link = await startSlowLink(origin, 16 * MB);
    links.push(link);
    const ref = `${link.host}/${slow.repository}@${slow.digest}`;
    expect((await h.runner.wait((await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] })).id)).state).toBe('succeeded');
    expect(via().at(-1)).toBe('relay');
  }, 60_000);

  it('measures a source before its first large pull: on loopback the engine pulls it directly; behind a slow link the cache does, and the probed bytes are not fetched twice', async () => {
    // A 48 MB layer: the probe takes its first 32 MiB (or 2 s), then the pull decides.
    const local = await push('pulls/probe-local', [48 * MB]);
    const remote = await push('pulls/probe-remote', [40 * MB]);
    const h = harness({ budgetGiB: 1 }, { probeMinMissingBytes: 16 * MB });
    const probes = () => h.logs.filter((l) => l.msg === 'measured a source before its first large pull');
    const via = () => h.logs.filter((l) => l.msg === 'pulling an image').map((l) => l.via);
    expect((await h.runner.wait((await h.runner.submit({ image: local.ref, command: ['sh', '-c', 'exit 0'] })).id)).state).toBe('succeeded');
    const rate = probes()[0]!.bytesPerSecond as number;
    console.log(`[images] the registry on loopback probed at ${(rate / 1e6).toFixed(0)} MB/s`);
    // The pull goes where the probe said, from the first pull on (before the probe, it always went through the cache).
    expect(via()).toEqual([rate >= 100e6 ? 'engine' : 'relay']);
    expect(h.images.cache.totalBytes()).toBe(0);

    const link = await startSlowLink(origin, 16 * MB);
    links.push(link);
    const before = origin.servedBlobBytes(remote.repository);
    expect((await h.runner.wait((await h.runner.submit({ image: `${link.host}/${remote.repository}@${remote.digest}`, command: ['sh', '-c', 'exit 0'] })).id)).state).toBe('succeeded');
    expect(probes()[1]).toMatchObject({ via: 'relay' });
    expect(probes()[1]!.bytesPerSecond as number).toBeLessThan(40e6);
    expect(via().at(-1)).toBe('relay');
    // The probe's bytes were the pull's first: the layer was asked for whole once (the probe), then
    // from where the probe stopped (a Range request, 206), never from the start again.
    const big = remote.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const asked = origin.requests().filter((r) => r.method === 'GET' && r.uri.endsWith(`/blobs/${big.digest}`) && r.status !== 404);
    expect(asked.map((r) => r.status)).toEqual([200, 206]);
    expect(asked[1]!.bytes).toBeLessThan(big.size - MB);
    expect(origin.servedBlobBytes(remote.repository) - before).toBeGreaterThan(0);
  }, 90_000);

  it('an agent stopped mid-pull keeps what it fetched, and its next start fetches only the rest', async () => {
    const image = await push('pulls/restart', [40 * MB]);
    const link = await startSlowLink(origin, 16 * MB);
    links.push(link);
    const ref = `${link.host}/${image.repository}@${image.digest}`;
    const first = makeImagesHarness({ budgetGiB: 1 });
    const job = await first.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    await until('part of the layer', () => (first.images.cache.totalBytes() > 10 * MB ? true : null), 30_000);
    // The agent stops: the runner ends the job that had not started, the store aborts its pull.
    await Promise.all([first.runner.close(), first.images.close()]);
    expect(first.runner.get(job.id)!.reason).toBe('agent-stopped');
    const held = image.layers.reduce((sum, l) => sum + first.images.cache.heldBytes(l.digest), 0);
    expect(held).toBeGreaterThan(10 * MB);
    await new Promise((r) => setTimeout(r, 800));
    const before = origin.servedBlobBytes(image.repository);
    const second = harness({ budgetGiB: 1 }, { home: first.home });
    const again = await second.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    expect((await second.runner.wait(again.id)).state).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 800));
    const total = image.layers.reduce((sum, l) => sum + l.size, 0);
    expect(origin.servedBlobBytes(image.repository) - before).toBeLessThanOrEqual(total - held + MB);
    harnesses.push(first);
  }, 90_000);

  it('a network that drops mid-pull fails the job with what to do, and the next pull resumes from what came', async () => {
    const image = await push('pulls/dropped', [40 * MB]);
    const link = await startSlowLink(origin, 16 * MB);
    links.push(link);
    const ref = `${link.host}/${image.repository}@${image.digest}`;
    const h = harness({ budgetGiB: 1 });
    const job = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    await until('part of the layer', () => (h.images.cache.totalBytes() > 10 * MB ? true : null), 30_000);
    link.drop();
    const failed = await h.runner.wait(job.id);
    expect(failed.state).toBe('failed');
    expect(h.runner.get(job.id)!.reason, h.runner.events(job.id).at(-1)!.detail).toBe('image-pull-failed');
    expect(h.runner.events(job.id).at(-1)!.detail).toMatch(/kept and the next try resumes it|what was downloaded is kept/);
    const held = image.layers.reduce((sum, l) => sum + h.images.cache.heldBytes(l.digest), 0);
    expect(held).toBeGreaterThan(10 * MB);
    await new Promise((r) => setTimeout(r, 800));
    const before = origin.servedBlobBytes(image.repository);
    const again = await h.runner.submit({ image: ref, command: ['sh', '-c', 'exit 0'] });
    expect((await h.runner.wait(again.id)).state).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 800));
    const total = image.layers.reduce((sum, l) => sum + l.size, 0);
    expect(origin.servedBlobBytes(image.repository) - before).toBeLessThanOrEqual(total - held + MB);
  }, 90_000);

  it('pulls through the mirror; with the origin down the job still runs, digest verified; a mirror serving other bytes under the digest is passed over', async () => {
    const image = await push('pulls/mirrored', [6 * MB]);
    const mirror = await startRegistry({ proxyOf: origin.url });
    try {
      const h = harness({ budgetGiB: 1, registryMirror: mirror.host });
      const first = await h.runner.submit({ image: image.ref, command: ['sh', '-c', 'exit 0'] });
      expect((await h.runner.wait(first.id)).state).toBe('succeeded');
      expect(mirror.servedBlobBytes(image.repository)).toBeGreaterThan(6 * MB);
      // The origin goes away; the mirror has it.
      await removeFromEngine(h.docker, [image.digest]);
      h.images.store.remove(image.ref);
      await origin.stop();
      const second = await h.runner.submit({ image: image.ref, command: ['sh', '-c', 'exit 0'] });
      const done = await h.runner.wait(second.id);
      expect(done.state, h.runner.logs(second.id).text).toBe('succeeded');
      // The mirror now serves other bytes under the big layer's digest: with the origin down, nothing runs.
      await removeFromEngine(h.docker, [image.digest]);
      h.images.store.remove(image.ref);
      const layer = image.layers[1]!;
      tamperBlob(mirror, layer.digest, Buffer.alloc(layer.size, 7));
      const refused = await h.runner.submit({ image: image.ref, command: ['sh', '-c', 'exit 0'] });
      const end = await h.runner.wait(refused.id);
      expect(end.state).toBe('failed');
      expect(h.runner.get(refused.id)!.reason).toMatch(/image-pull-failed|image-digest-mismatch|image-unreadable/);
      // With the origin back, the same job is pulled from it and runs.
      await origin.restart();
      const fromOrigin = await h.runner.submit({ image: image.ref, command: ['sh', '-c', 'exit 0'] });
      expect((await h.runner.wait(fromOrigin.id)).state, h.runner.logs(fromOrigin.id).text).toBe('succeeded');
    } finally {
      await mirror.remove();
      await origin.restart().catch(() => {});
    }
  }, 120_000);

  it('a demand list leads to a pre-pull within the budget, then a warm advertisement; not beyond the budget, not when turned off', async () => {
    const wanted = await push('pulls/wanted', [5 * MB]);
    const huge = await push('pulls/huge', [30 * MB]);
    const h = harness({ budgetGiB: 0.05 });
    await h.images.view();
    expect(h.images.advertised().digests).toEqual([]);
    await h.images.prePull([
      { image: huge.ref, sizeBytes: huge.compressedBytes, requests: 9 },
      { image: wanted.ref, sizeBytes: wanted.compressedBytes, requests: 3 },
    ]);
    const view = await h.images.view();
    expect(view.images.map((i) => [i.ref, i.prePulled, i.warm])).toEqual([[wanted.ref, true, true]]);
    expect(h.images.advertised().digests).toEqual([wanted.digest]);
    expect(h.images.advertised().freeBudgetMiB).toBeLessThan(0.05 * 1024);
    const off = harness({ budgetGiB: 1, prePull: false });
    await off.images.prePull([{ image: huge.ref, sizeBytes: huge.compressedBytes, requests: 9 }]);
    expect((await off.images.view()).images).toEqual([]);
  }, 60_000);
});
