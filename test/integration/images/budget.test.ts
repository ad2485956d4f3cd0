/**
 * The image budget on the real engine, with a real registry: 20 jobs cycling through 5 images
 * under a budget that holds about two never take Offshift past it (sampled every 50 ms during the
 * run), and what is never removed: the owner's images, and an image a job uses.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRandomImage, type RandomImage } from '../../helpers/random-image.js';
import { startRegistry, type Registry } from '../../helpers/registry.js';
import { until } from '../../helpers/until.js';
import { GIB, makeImagesHarness, removeFromEngine, skipReason, type ImagesHarness } from './harness.js';

const run = promisify(execFile);
const LAYER = 12 * 1024 * 1024;

describe.skipIf(skipReason !== null)('the image budget', () => {
  let registry: Registry;
  const pushed: RandomImage[] = [];
  const harnesses: ImagesHarness[] = [];
  const digests = () => pushed.map((p) => p.digest);

  beforeAll(async () => {
    registry = await startRegistry();
    for (let i = 0; i < 5; i++) pushed.push(await pushRandomImage(registry, { repository: `budget/img${i}`, layerBytes: [LAYER], seed: `budget-${i}-${Date.now()}` }));
  }, 120_000);
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
    await removeFromEngine((harnesses[0] ?? makeImagesHarness()).docker, digests());
    await run('docker', ['rmi', '--force', 'offshift-test-owner/kept:1']).catch(() => {});
    await registry?.remove();
  });

  it('20 jobs over 5 images under a budget that holds about two: Offshift never exceeds it, and every job runs', async () => {
    const size = Math.max(...pushed.map((p) => p.compressedBytes));
    // Two images on disk and the third's download in the blob cache: about 3.6 images' worth.
    const budgetBytes = Math.floor(3.6 * size);
    const h = makeImagesHarness({ budgetGiB: budgetBytes / GIB });
    harnesses.push(h);
    let max = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        max = Math.max(max, await h.measuredBytes(digests()));
        samples++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const states: string[] = [];
    for (let i = 0; i < 20; i++) {
      const job = await h.runner.submit({ image: pushed[i % 5]!.ref, command: ['sh', '-c', 'echo ran'] });
      const done = await h.runner.wait(job.id);
      states.push(done.state === 'succeeded' ? 'ok' : `${done.state}: ${done.reason} ${h.runner.get(job.id)?.reason ?? ''}`);
    }
    sampling = false;
    await sampler;
    console.log(`[images] budget ${(budgetBytes / 1e6).toFixed(1)} MB, image ${(size / 1e6).toFixed(1)} MB: at most ${(max / 1e6).toFixed(1)} MB used over ${samples} samples`);
    expect(states).toEqual(Array(20).fill('ok'));
    expect(samples).toBeGreaterThan(20);
    expect(max).toBeGreaterThan(size); // it did hold images
    expect(max).toBeLessThanOrEqual(budgetBytes);
    // Images were removed to make room: never more than the budget's worth are kept.
    expect(h.images.store.all().filter((r) => r.image_id).length).toBeLessThanOrEqual(3);
  }, 300_000);

  it('never removes the owner\'s images, nor an image a job uses', async () => {
    const h = makeImagesHarness({ budgetGiB: 1 });
    harnesses.push(h);
    await removeFromEngine(h.docker, digests());
    // The owner's: pulled and tagged by the owner, before Offshift ever saw it.
    const owners = pushed[0]!;
    await run('docker', ['pull', owners.ref]);
    await run('docker', ['tag', owners.ref, 'offshift-test-owner/kept:1']);
    // A job on the owner's image uses it as it is: no record, nothing pulled.
    const onOwners = await h.runner.submit({ image: owners.ref, command: ['sh', '-c', 'exit 0'] });
    expect((await h.runner.wait(onOwners.id)).state).toBe('succeeded');
    expect(h.images.store.get(owners.ref)).toBeNull();
    // Offshift pulls two more; the owner later tags one of them: it becomes the owner's.
    for (const p of [pushed[1]!, pushed[2]!]) expect((await h.runner.wait((await h.runner.submit({ image: p.ref, command: ['sh', '-c', 'exit 0'] })).id)).state).toBe('succeeded');
    const adopted = (await h.images.view()).images.find((i) => i.ref === pushed[2]!.ref)!;
    await run('docker', ['tag', adopted.imageId!, 'offshift-test-owner/adopted:1']);
    // A job runs on a third one while everything unused is pruned, pinned ones too.
    const busy = await h.runner.submit({ image: pushed[3]!.ref, command: ['sh', '-c', 'busybox sleep 30'] });
    await until('the job to run', () => h.runner.get(busy.id)?.state === 'running', 60_000);
    const result = await h.images.prune('manual', true);
    expect(result.removed.map((r) => r.ref)).toEqual([pushed[1]!.ref]);
    const left = (await run('docker', ['image', 'ls', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}'])).stdout;
    expect(left).toContain('offshift-test-owner/kept:1');
    expect(left).toContain('offshift-test-owner/adopted:1');
    expect(left).toContain(pushed[3]!.digest);
    expect(left).not.toContain(pushed[1]!.digest);
    await h.runner.cancel(busy.id);
    await h.runner.wait(busy.id);
    await run('docker', ['rmi', 'offshift-test-owner/adopted:1']).catch(() => {});
  }, 180_000);
});
