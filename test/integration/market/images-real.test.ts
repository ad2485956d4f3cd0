/**
 * Images at real size through the whole loop with real parts (anvil, the reference market, agents
 * with the Docker runner, a buyer client, and a real registry behind a slow link): the pull is
 * shown to the buyer as it goes and is not billed; once a provider holds the image the market
 * gives it the next job of that image over a cold provider at the same price; an image that
 * cannot fit is declined with the figures before a layer is served.
 */
import { describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import type { MarketProviderView } from '../../../protocol/index.js';
import { pushRandomImage } from '../../helpers/random-image.js';
import { registryAvailable, startRegistry } from '../../helpers/registry.js';
import { startSlowLink } from '../../helpers/slow-link.js';
import { canBuildTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { removeFromEngine } from '../images/harness.js';
import { useRealLoop } from './real-loop.js';

const MB = 1024 * 1024;
const skip = canBuildTestImage() ?? registryAvailable();
if (skip) console.warn(`[skipped] images through the marketplace: ${skip}`);

describe.skipIf(skip !== null)('images through the marketplace loop', () => {
  const loop = useRealLoop();
  const { market, provider, buyer, job, defer } = loop;

  it('shows the pull to the buyer, does not bill it, and gives the next job of the image to the provider that holds it', async () => {
    const registry = await startRegistry();
    defer(() => registry.remove());
    const image = await pushRandomImage(registry, { repository: 'loop/render', layerBytes: [12 * MB], seed: `loop-${Date.now()}` });
    const link = await startSlowLink(registry, 4 * MB);
    defer(() => link.close());
    const ref = `${link.host}/${image.repository}@${image.digest}`;
    const m = await market();
    const a = await provider(m.url);
    const b = await provider(m.url);
    defer(async () => removeFromEngine(connectDocker(), [image.digest]));
    const events: BuyerEvent[] = [];
    const client = await buyer(m.url, (e) => events.push(e));
    const started = Date.now();
    const first = await (await client.submit({ ...job(2), image: ref, command: ['sh', '-c', 'busybox sleep 2'], imageSizeBytes: image.compressedBytes, maxPullSeconds: 120 }, { outputDir: null })).result;
    const wall = (Date.now() - started) / 1000;
    expect(first.state, first.detail).toBe('succeeded');
    const pulls = events.filter((e): e is Extract<BuyerEvent, { type: 'pull-progress' }> => e.type === 'pull-progress');
    expect(pulls.length).toBeGreaterThan(2);
    expect(pulls.at(-1)!.bytes).toBeGreaterThan(12 * MB);
    expect(pulls.some((p) => p.bytesPerSecond !== null && p.bytesPerSecond < 6 * MB)).toBe(true);
    // About 3 s of pulling at 4 MB/s, then 2 s of work: only the work is billed.
    expect(wall).toBeGreaterThan(4.5);
    expect(first.usageSeconds).toBeLessThanOrEqual(3);
    const holder = first.provider === a.address ? a : b;
    const cold = holder === a ? b : a;
    const view = await holder.agent.client().call('images.list', {});
    expect(view.images).toMatchObject([{ ref, jobsRun: 1, warm: true }]);
    await until('the holder to advertise the image, free again', async () => {
      const res = await fetch(`${m.url.replace(/^ws/, 'http')}/v1/providers`);
      const views = (await res.json()) as MarketProviderView[];
      const ad = views.find((v) => v.address === holder.address)?.ad;
      return !!ad && ad.slots > 0 && ad.availability.state === 'available' && !!ad.images?.digests.includes(image.digest);
    }, 10_000);
    // Turns would give the next job to the other provider; the image gives it to the holder.
    const second = await (await client.submit({ ...job(1), image: ref, command: ['sh', '-c', 'exit 0'], imageSizeBytes: image.compressedBytes }, { outputDir: null })).result;
    expect(second).toMatchObject({ state: 'succeeded', provider: holder.address });
    expect((await cold.agent.client().call('images.list', {})).images).toEqual([]);
  }, 120_000);

  it('declines an image that cannot fit the budget before a layer is served, and says so with the figures', async () => {
    const registry = await startRegistry();
    defer(() => registry.remove());
    const image = await pushRandomImage(registry, { repository: 'loop/huge', layerBytes: [40 * MB], seed: `huge-${Date.now()}` });
    const m = await market();
    const p = await provider(m.url);
    await p.agent.client().call('images.settings', { budgetGiB: 0.02 });
    const client = await buyer(m.url);
    const handle = await client.submit({ ...job(1), image: image.ref, imageSizeBytes: image.compressedBytes }, { outputDir: null, maxAttempts: 1 });
    const status = await until('the offer to be decided', async () => {
      const s = await p.agent.client().call('market.status', {});
      return s.offers.length > 0 ? s : null;
    }, 20_000);
    handle.cancel();
    expect((await handle.result).state).not.toBe('succeeded');
    expect(status.offers[0]).toMatchObject({ accepted: false, reason: 'not-enough-disk' });
    expect(status.offers[0]!.detail).toMatch(/Declined before pulling: the image needs about .* MB on disk/);
    await new Promise((r) => setTimeout(r, 500));
    expect(registry.requests().filter((r) => r.method === 'GET' && image.layers.some((l) => r.uri.endsWith(l.digest)))).toEqual([]);
  }, 60_000);

  it('an agent of revision 2 still works with a market that speaks only revision 1: no image fields, the job runs', async () => {
    const m = await market({ versions: [1] });
    const p = await provider(m.url);
    const client = await buyer(m.url);
    const result = await (await client.submit(job(1), { outputDir: null })).result;
    expect(result).toMatchObject({ state: 'succeeded', provider: p.address });
    const res = await fetch(`${m.url.replace(/^ws/, 'http')}/v1/providers`);
    const views = (await res.json()) as MarketProviderView[];
    expect(views.find((v) => v.address === p.address)?.ad).not.toHaveProperty('images');
    // The agent itself speaks revision 1 there: an older market's strict schema would refuse an image field.
    expect(p.agent.market.provider()?.revision).toBe(1);
  }, 60_000);

  it('what buyers ask for reaches the agent as demand: it pre-pulls the image within its budget, then advertises it warm', async () => {
    const registry = await startRegistry();
    defer(() => registry.remove());
    const image = await pushRandomImage(registry, { repository: 'loop/wanted', layerBytes: [6 * MB], seed: `wanted-${Date.now()}` });
    defer(async () => removeFromEngine(connectDocker(), [image.digest]));
    const m = await market({ demandIntervalMs: 300 });
    const p = await provider(m.url);
    // Three buyers ask for it in jobs no provider here can take (a GPU each): the market counts them.
    for (let k = 0; k < 3; k++) {
      const b = await BuyerClient.connect({ market: m.url, signer: Wallet.createRandom().privateKey, reconnect: false });
      defer(() => b.close());
      const handle = await b.submit({ ...job(1), image: image.ref, gpus: 1, imageSizeBytes: image.compressedBytes }, { outputDir: null });
      defer(() => handle.cancel());
    }
    await until('the agent to pre-pull the image', async () => (await p.agent.client().call('images.list', {})).images.some((i) => i.ref === image.ref && i.prePulled && i.imageId !== null), 30_000);
    await until('the market to see it warm', async () => {
      const res = await fetch(`${m.url.replace(/^ws/, 'http')}/v1/providers`);
      const views = (await res.json()) as MarketProviderView[];
      return !!views.find((v) => v.address === p.address)?.ad?.images?.digests.includes(image.digest);
    }, 10_000);
  }, 90_000);
});
