/**
 * The Images page end to end: a real headless agent (`node dist/runtime/cli.js agent`, an admin
 * policy that locks the free-disk floor), a real registry on 127.0.0.1 with images made at test
 * time, the real Docker engine, and the built dashboard in Debian's Chromium:
 * - before any job: the engine's disk as a bar with the floor marked, what may still be pulled,
 *   and the empty state saying what the store is for and that the owner's images are never touched;
 * - after two jobs pulled their images: a row each with its size, the bar's share of Offshift's
 *   images as the agent counts it, a pin the agent keeps, and "Remove unused images" that says
 *   what it frees and removes only the unpinned one;
 * - the budget saved from the page is the agent's; the locked floor is disabled and refused.
 * The agent's images.list is asked first: an agent that answers it with an error fails the test,
 * it does not pass on an error banner. OFFSHIFT_SCREENSHOT_DIR keeps a screenshot of the page with data.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';
import { availableLine, formatDisk } from '../../renderer/src/lib/images.js';
import { hasChromium, launchChromium, requireBuilt, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { canPushRandomImages, pushRandomImage, type RandomImage } from '../helpers/random-image.js';
import { registryAvailable, startRegistry, type Registry } from '../helpers/registry.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { dockerAvailable } from '../helpers/test-images.js';

warnIfNoChromium('Images page tests');
const skipReason = !hasChromium ? 'Chromium is missing' : (registryAvailable() ?? canPushRandomImages() ?? (dockerAvailable() ? null : 'the Docker engine is not reachable'));
if (hasChromium && skipReason) console.warn(`[e2e] Images page tests skipped: ${skipReason}.`);

const MiB = 1024 * 1024;
/** The floor the administrator sets: low, so that the test's pulls fit on any test machine. */
const POLICY_MIN_FREE_GIB = 1;
// A new seed each run: the engine must hold none of these layers, or the pull would be empty.
const runId = crypto.randomUUID().slice(0, 8);

describe.skipIf(skipReason !== null)('the Images page in Chromium against a real headless agent', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let agent: HeadlessAgent | undefined;
  let registry: Registry | undefined;
  let browser: Browser;
  let client: Client;
  let page: Page;
  const images: RandomImage[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    temp = makeTempHome('offshift-e2e-images-');
    const home = path.join(temp.home, 'home');
    const policy = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ mandatory: { images: { minFreeGiB: POLICY_MIN_FREE_GIB } } }));
    registry = await startRegistry();
    images.push(await pushRandomImage(registry, { repository: 'offshift-e2e/render', layerBytes: [24 * MiB], seed: `render-${runId}` }));
    images.push(await pushRandomImage(registry, { repository: 'offshift-e2e/train', layerBytes: [12 * MiB], seed: `train-${runId}` }));
    agent = await startHeadlessAgent({ ...process.env, OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policy, OFFSHIFT_MARKET: 'off' }, { timeoutMs: 60_000 });
    client = createClient(await connectWebSocket(agent.port, agent.token));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1300 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(agent.url);
  }, 240_000);

  afterAll(async () => {
    // The shared engine keeps nothing of this test: the store removes what it pulled, and anything left is removed by ref.
    await client?.call('images.pin', { ref: images[0]?.ref ?? '', pinned: false }).catch(() => {});
    await client?.call('images.prune', { all: true }).catch(() => {});
    for (const image of images) {
      try {
        execFileSync('docker', ['rmi', '--force', image.ref], { stdio: 'pipe' });
      } catch {}
    }
    client?.close();
    await browser?.close().catch(() => {});
    await agent?.stop();
    await registry?.remove();
    temp?.cleanup();
  }, 60_000);

  async function openImages(): Promise<void> {
    await page.evaluate("window.location.hash = '#/images'");
    await page.getByTestId('images-disk').waitFor({ timeout: 15_000 });
  }

  it('before any job: the disk bar with the floor marked, what may still be pulled, and the empty state', async () => {
    // The agent answers: a missing or failing images.list fails here, not as a banner the test could miss.
    const view = await client.call('images.list', {});
    expect(view.images).toEqual([]);
    expect(view.locked).toContain('images.minFreeGiB');
    await openImages();
    expect(await page.getByTestId('images-error').count()).toBe(0);

    const bar = page.getByTestId('images-bar');
    expect(await bar.getAttribute('aria-label')).toBeTruthy();
    const known = view.usage.freeDiskBytes !== null;
    expect(await bar.getAttribute('data-disk-known')).toBe(String(known));
    expect(await page.getByTestId('images-bar-offshift').count()).toBe(0);
    if (known) {
      // The engine's disk: other files and free space, the floor kept free at its right end.
      expect(Number(await page.getByTestId('images-bar-floor').getAttribute('data-bytes'))).toBe(POLICY_MIN_FREE_GIB * 1024 ** 3);
      const at = Number(await page.getByTestId('images-marker-floor').getAttribute('data-at'));
      expect(at).toBeCloseTo(1 - view.usage.minFreeBytes / view.usage.diskTotalBytes!, 2);
      expect(await page.getByTestId('images-marker-floor').textContent()).toBe(`floor ${formatDisk(view.usage.minFreeBytes)} free`);
    }
    // What may still be pulled: the agent's figure, in the page's words (the free disk moves a little between two reads).
    const available = (await page.getByTestId('images-available').textContent()) ?? '';
    expect(available).toMatch(/^Offshift may still pull [\d.,]+ (GiB|TiB|MiB) of images: /);
    expect(available.replace(/[\d.,]+ (GiB|TiB|MiB)/g, 'N')).toBe(availableLine(view.usage).replace(/[\d.,]+ (GiB|TiB|MiB)/g, 'N'));

    const empty = page.getByTestId('images-empty');
    expect(await empty.textContent()).toContain('Offshift keeps here the images that jobs pull, within the budget below (64 GiB)');
    expect(await empty.textContent()).toContain('It never touches your own Docker images');
    expect(await page.getByTestId('images-prune-open').isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('after two jobs: a row each, the bar counts them, a pin the agent keeps, and removing the unused one says what it frees', async () => {
    for (const image of images) {
      const { job } = await client.call('jobs.run', { spec: { image: image.ref, command: ['sh', '-c', 'true'], cpus: 1, memoryMiB: 64 } });
      await expect.poll(async () => (await client.call('jobs.get', { id: job.id })).job.state, { timeout: 90_000, interval: 250 }).toBe('succeeded');
    }
    const view = await client.call('images.list', {});
    expect(view.images.map((i) => i.repository).sort()).toEqual(images.map((i) => `${registry!.host}/${i.repository}`).sort());
    await openImages();
    const rows = page.getByTestId('image-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    expect(await page.getByTestId('images-empty').count()).toBe(0);
    await expect.poll(async () => Number(await page.getByTestId('images-bar-offshift').getAttribute('data-bytes').catch(() => '0')), { timeout: 10_000 }).toBe(view.usage.usedBytes);
    const render = page.locator(`[data-testid="image-row"][data-digest="${images[0]!.digest}"]`);
    expect(await render.textContent()).toContain('offshift-e2e/render');
    expect(await render.getByTestId('image-size').textContent()).toBe(formatDisk(view.images.find((i) => i.digest === images[0]!.digest)!.sizeBytes));

    await render.getByTestId('image-pin').click();
    await expect.poll(() => render.getByTestId('image-pin').getAttribute('aria-checked')).toBe('true');
    expect((await client.call('images.list', {})).images.find((i) => i.digest === images[0]!.digest)?.pinned).toBe(true);
    if (process.env.OFFSHIFT_SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.OFFSHIFT_SCREENSHOT_DIR, 'images-page.png'), fullPage: true });

    const train = view.images.find((i) => i.digest === images[1]!.digest)!;
    await page.getByTestId('images-prune-open').click();
    const confirm = page.getByTestId('images-prune-confirm');
    expect(await confirm.textContent()).toContain(`Remove 1 unused image and free ${formatDisk(train.sizeBytes)}?`);
    expect(await confirm.textContent()).toContain('1 image stays: it is pinned or a job uses it.');
    await page.getByTestId('images-prune-confirm-button').click();
    await page.getByTestId('images-prune-done').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('images-prune-done').textContent()).toBe(`Removed 1 image, ${formatDisk(train.sizeBytes)} freed.`);
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect((await client.call('images.list', {})).images.map((i) => i.digest)).toEqual([images[0]!.digest]);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('the budget saved from the page is the agent’s; the floor the administrator set is disabled here and refused by the agent', async () => {
    await openImages();
    const floor = page.getByTestId('images-set-minFreeGiB');
    expect(await floor.getAttribute('data-locked')).toBe('true');
    expect(await floor.getByTestId('set-locked').textContent()).toContain('Set by your administrator');
    expect(await page.getByTestId('images-input-minFreeGiB').isDisabled()).toBe(true);
    await page.getByTestId('images-input-budgetGiB').fill('80');
    await page.getByTestId('images-settings-save').click();
    await page.getByTestId('images-settings-saved').waitFor({ timeout: 15_000 });
    expect((await client.call('images.settings', {})).effective.budgetGiB).toBe(80);
    await expect(client.call('images.settings', { minFreeGiB: 8 })).rejects.toMatchObject({ code: 'locked-by-policy' });
    expect(pageErrors).toEqual([]);
  });
});
