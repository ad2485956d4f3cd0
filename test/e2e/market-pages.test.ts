/**
 * The Jobs page's output pictures and the Marketplace page, in real Chromium against a real agent
 * (in this process, over its real WebSocket server) with the real Docker engine:
 * - a demo-image job run with jobs.run leaves its PNG, shown as a thumbnail in the list and large
 *   in the job view; jobs.outputFile refuses a path out of the output folder;
 * - the Marketplace page shows the connection state and its reason, moves to a market by URL
 *   (refusing plain ws:// to another host), saves prices that round-trip through the agent, and
 *   shows a price the admin policy sets as locked (the agent refuses it too).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../runtime/agent/agent.js';
import { freePort } from '../../runtime/chain/anvil.js';
import { runCli } from '../../runtime/cli.js';
import { loadOrCreateToken } from '../../runtime/api/token.js';
import { startWebSocketServer, type RunningServer } from '../../runtime/api/transports/websocket-server.js';
import { demoJobRequest, ensureDemoImage, findDemoBinary } from '../../runtime/demo/image.js';
import { silentLogger } from '../../runtime/log.js';
import { connectDocker } from '../../runtime/engine/index.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { dockerAvailable } from '../helpers/test-images.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DASHBOARD = path.join(ROOT, 'dist', 'renderer');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const hasDocker = dockerAvailable();
if (!hasChromium) console.warn(`[e2e] market pages skipped: ${CHROMIUM} is missing (Debian: apt-get install chromium).`);
if (hasChromium && !hasDocker) console.warn('[e2e] the Jobs page picture test is skipped: the Docker engine is not reachable.');

/** What the test reads of an <img> (this tsconfig has no DOM types). */
interface Picture {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

/** 0.2 token (18 decimals): the job-hour floor the administrator sets. */
const POLICY_JOB_HOUR = '200000000000000000';

describe.skipIf(!hasChromium)('the Jobs and Marketplace pages in Chromium against a real agent', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let agent: Agent;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let env: NodeJS.ProcessEnv;
  const pageErrors: string[] = [];
  const quiet = { stdout: () => {}, stderr: () => {} };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DASHBOARD, 'index.html'))) throw new Error('dist/renderer/index.html is missing: run npm run build first (npm test does).');
    temp = makeTempHome('offshift-e2e-market-');
    const home = path.join(temp.home, 'home');
    fs.mkdirSync(home);
    const policy = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ mandatory: { market: { minPricePerJobHour: POLICY_JOB_HOUR } } }));
    env = { ...process.env, OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policy, OFFSHIFT_PORT: undefined, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' };
    // A local chain (a detached anvil) for the wallet's network: the agent dials a market only with one.
    if ((await runCli(['devnet', 'up', '--port', String(await freePort()), '--json'], { env, ...quiet })) !== 0) throw new Error('offshift devnet up failed');
    // The market side is on, with no demo network: it waits for a URL (the lead's demo tests run the demo).
    agent = createAgent({ home, env, log: silentLogger, market: { enabled: true, demo: false, backoff: { minMs: 500, maxMs: 2000 } } });
    server = await startWebSocketServer({ dispatch: agent.dispatch, bus: agent.bus, token: loadOrCreateToken(home), port: 0, staticDir: DASHBOARD });
    await agent.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}#token=${loadOrCreateToken(home)}`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.close();
    await agent?.stop();
    if (env) await runCli(['devnet', 'down'], { env, ...quiet });
    temp?.cleanup();
  });

  it.skipIf(!hasDocker)('shows a finished job’s output picture: a thumbnail in the list, large in the job view', async () => {
    if (!findDemoBinary()) throw new Error('dist/demo-job/render is missing: run npm run build first (npm test does).');
    const { imageId } = await ensureDemoImage(connectDocker());
    const request = demoJobRequest(imageId, 5);
    const client = agent.client();
    const { job } = await client.call('jobs.run', {
      spec: { image: imageId, command: [...request.command, '--width', '160', '--height', '120', '--samples', '1'], cpus: 1, memoryMiB: request.memoryMiB, outputMiB: request.outputMiB },
    });
    await expect.poll(async () => (await client.call('jobs.get', { id: job.id })).job.state, { timeout: 60_000, interval: 250 }).toBe('succeeded');
    await expect.poll(async () => (await client.call('jobs.outputs', { id: job.id })).files.map((f) => [f.path, f.mimeType]), { timeout: 10_000 }).toEqual([['mandelbrot-5.png', 'image/png']]);
    await expect(client.call('jobs.outputFile', { id: job.id, path: '../log.txt' })).rejects.toMatchObject({ code: 'invalid-input' });

    await page.getByTestId('nav-jobs').click();
    const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
    const thumb = row.getByTestId('job-thumb');
    await thumb.waitFor({ timeout: 20_000 });
    expect(await thumb.evaluate((el) => (el as unknown as Picture).complete && (el as unknown as Picture).naturalWidth > 0)).toBe(true);
    await row.click();
    const picture = page.getByTestId('job-output-image');
    await picture.waitFor({ timeout: 15_000 });
    await expect.poll(() => picture.evaluate((el) => [(el as unknown as Picture).naturalWidth, (el as unknown as Picture).naturalHeight])).toEqual([160, 120]);
    expect(await picture.getAttribute('data-path')).toBe('mandelbrot-5.png');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows the connection state with its reason, and moves to a market by its URL', async () => {
    const client = agent.client();
    await page.getByTestId('nav-marketplace').click();
    const before = await client.call('market.status', {});
    expect(before.network).toBe('off');
    await expect.poll(() => page.getByTestId('market-reason').textContent()).toBe(before.reason);
    expect(await page.getByTestId('market-connection').getAttribute('data-state')).toBe(before.state);

    // Plain ws:// to another host is refused on the page, before the agent is asked.
    await page.getByTestId('market-url-input').fill('ws://market.example.com');
    await page.getByTestId('market-url-connect').click();
    await expect.poll(() => page.getByTestId('market-url-problem').textContent()).toMatch(/use wss:\/\//);
    expect((await client.call('market.status', {})).url).toBeNull();

    // A market on this computer that is not there: the page shows the agent's own state and reason.
    const url = `ws://127.0.0.1:${await freePort()}`;
    await page.getByTestId('market-url-input').fill(url);
    await page.getByTestId('market-url-connect').click();
    await expect.poll(() => page.getByTestId('market-network').getAttribute('data-network')).toBe('real');
    expect(await page.getByTestId('market-url').textContent()).toBe(url);
    expect((await client.call('market.status', {})).settings.url).toBe(url);
    await expect
      .poll(async () => {
        const s = await client.call('market.status', {});
        return s.state !== 'off' && (await page.getByTestId('market-reason').textContent()) === s.reason && (await page.getByTestId('market-connection').getAttribute('data-state')) === s.state;
      }, { timeout: 15_000 })
      .toBe(true);

    // With a wallet the agent dials the market, which is not there: the page says it retries, and when.
    await client.call('wallet.create', { password: 'a test password' });
    await expect.poll(() => page.getByTestId('market-connection').getAttribute('data-state'), { timeout: 20_000 }).toBe('retrying');
    await expect.poll(() => page.getByTestId('market-retry').textContent(), { timeout: 10_000 }).toMatch(/^retrying (in \d+ s|now)$/);
    // The reason changes with each try (connecting, retrying): the page follows the agent's.
    await expect
      .poll(async () => (await page.getByTestId('market-reason').textContent()) === (await client.call('market.status', {})).reason, { timeout: 10_000 })
      .toBe(true);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('saves prices that round-trip through the agent, and shows the administrator’s price locked', async () => {
    const client = agent.client();
    await page.getByTestId('nav-marketplace').click();
    const gpuInput = page.getByTestId('price-input-minPricePerGpuHour');
    await gpuInput.fill('0.75');
    await page.getByTestId('price-save').click();
    await page.getByTestId('price-saved').waitFor();
    expect((await client.call('market.status', {})).settings.minPricePerGpuHour).toBe('750000000000000000');
    // A token amount the page cannot read is not sent.
    await gpuInput.fill('0.7.5');
    expect(await page.getByTestId('price-save').isDisabled()).toBe(true);

    await page.reload();
    await page.getByTestId('nav-marketplace').click();
    await expect.poll(() => page.getByTestId('price-input-minPricePerGpuHour').inputValue()).toBe('0.75');

    const locked = page.getByTestId('price-minPricePerJobHour');
    expect(await locked.getAttribute('data-locked')).toBe('true');
    expect(await page.getByTestId('price-input-minPricePerJobHour').isDisabled()).toBe(true);
    expect(await page.getByTestId('price-input-minPricePerJobHour').inputValue()).toBe('0.2');
    expect(await locked.getByTestId('lock-note').textContent()).toMatch(/administrator/);
    expect(await page.getByTestId('price-minPricePerGpuHour').getAttribute('data-locked')).toBe('false');
    await expect(client.call('market.settings', { minPricePerJobHour: '1' })).rejects.toMatchObject({ code: 'locked-by-policy' });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
