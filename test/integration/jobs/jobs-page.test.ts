/**
 * The dashboard's Jobs page in real Chromium against a real agent (in this process) running a
 * real job: the row with its state, the job view with its live log, and the cancel button.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { silentLogger } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { skipReason } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DASHBOARD = path.join(ROOT, 'dist/renderer');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[jobs-page] skipped: ${CHROMIUM} is missing (apt-get install chromium).`);

describe.skipIf(skipReason !== null || !hasChromium)('the Jobs page in Chromium', () => {
  let home: { home: string; cleanup: () => void };
  let agent: Agent;
  let server: RunningServer;
  let browser: Browser;
  let image: string;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DASHBOARD, 'index.html'))) throw new Error('dist/renderer/index.html is missing: run npm run build first (npm test does).');
    image = sandboxTestImage();
    home = makeTempHome();
    agent = createAgent({ home: home.home, env: { ...process.env, OFFSHIFT_HOME: home.home }, log: silentLogger });
    server = await startWebSocketServer({ dispatch: agent.dispatch, bus: agent.bus, token: loadOrCreateToken(home.home), port: 0, staticDir: DASHBOARD });
    await agent.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await agent?.stop();
    home?.cleanup();
  });

  it('lists a running job, shows its live log, and cancels it', async () => {
    const client = agent.client();
    const done = await client.call('jobs.run', { spec: { image, command: ['sh', '-c', 'echo first line; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'] } });
    const id = done.job.id;
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}#token=${loadOrCreateToken(home.home)}`);
    await page.getByTestId('nav-jobs').click();
    const row = page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    await row.click();
    const log = page.getByTestId('job-log');
    await expect.poll(() => log.textContent(), { timeout: 10_000 }).toContain('first line');
    // Live: new ticks arrive without reloading.
    const before = (await log.textContent())!.length;
    await expect.poll(async () => (await log.textContent())!.length, { timeout: 10_000 }).toBeGreaterThan(before);
    await page.getByTestId('job-cancel').click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 15_000 }).toBe('cancelled');
    await expect.poll(() => page.getByTestId('job-detail').textContent()).toMatch(/cancelled — Cancelled by the owner/);
    expect(errors).toEqual([]);
  });
});
