/**
 * The dashboard end to end: a real headless agent (`node dist/runtime/cli.js agent`) with a fake
 * nvidia-smi first on PATH that serves a real two-GPU capture, and the built dashboard opened in
 * real Chromium (Debian's /usr/bin/chromium through Playwright).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuFixture, makeFakeGpuTools, type FakeGpuTools } from '../helpers/fake-gpu-tools.js';
import { CLI, DASHBOARD, hasChromium, launchChromium, requireBuilt, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { createClient } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';

const CAPTURE = 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml';

warnIfNoChromium('dashboard tests');

/** What a person must see, read from the capture itself rather than restated by hand. */
function expectedGpus(): Array<{ name: string; memoryMiB: number }> {
  const xml = fs.readFileSync(gpuFixture(CAPTURE), 'utf8');
  return [...xml.matchAll(/<gpu id="[^"]*">([\s\S]*?)<\/gpu>/g)].map(([, body]) => ({
    name: /<product_name>([^<]*)<\/product_name>/.exec(body!)![1]!.trim(),
    memoryMiB: Number(/<fb_memory_usage>\s*<total>(\d+) MiB<\/total>/.exec(body!)![1]),
  }));
}

const startAgent = (home: string, fake: FakeGpuTools, port = 0) => startHeadlessAgent(fake.env({ ...process.env, OFFSHIFT_HOME: home }), { port });

describe('the built dashboard page', () => {
  it('has no inline script and carries a strict CSP of its own', () => {
    if (!fs.existsSync(DASHBOARD)) throw new Error('dist/renderer/index.html is missing: run npm run build first (npm test does).');
    const html = fs.readFileSync(DASHBOARD, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const csp = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain('connect-src');
    expect(csp).toContain('ws://127.0.0.1:*');
    expect(csp).not.toContain('unsafe-eval');
  });
});

describe.skipIf(!hasChromium)('dashboard in Chromium against a real headless agent', () => {
  let fake: FakeGpuTools;
  let home: { home: string; cleanup: () => void };
  let agent: HeadlessAgent | undefined;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function openPage(url: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    return page;
  }

  beforeAll(async () => {
    requireBuilt();
    fake = makeFakeGpuTools({ nvidiaXml: CAPTURE });
    home = makeTempHome('offshift-e2e-dashboard-');
    agent = await startAgent(home.home, fake);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await agent?.stop();
    fake?.cleanup();
    home?.cleanup();
  });

  it('shows each GPU of the capture with its name and memory, and hides the token from the URL', async () => {
    const gpus = expectedGpus();
    expect(gpus).toHaveLength(2);
    const page = await openPage(agent!.url);
    const cards = page.getByTestId('gpu-card');
    await expect.poll(() => cards.count(), { timeout: 10_000 }).toBe(gpus.length);
    for (const [i, gpu] of gpus.entries()) {
      const card = cards.nth(i);
      expect(await card.getByTestId('gpu-name').textContent()).toBe(gpu.name);
      expect(await card.textContent()).toContain(`${gpu.memoryMiB.toLocaleString('en-US')} MiB`);
      expect(await card.getByTestId('gpu-memory').textContent()).toContain(`${(gpu.memoryMiB / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} GiB`);
    }
    expect(page.url()).not.toContain('token');
    expect(pageErrors).toEqual([]);
  });

  it('always shows the agent’s state and its reason in the header', async () => {
    const page = await openPage(agent!.url);
    const header = page.getByTestId('agent-state');
    await expect.poll(() => header.getAttribute('data-state'), { timeout: 10_000 }).toMatch(/^(available|working|paused|error)$/);
    // What the header shows is what the agent says, asked over the API from outside the page.
    const url = new URL(agent!.url);
    const transport = await connectWebSocket(Number(url.port), url.hash.replace('#token=', ''));
    const client = createClient(transport);
    try {
      const labels: Record<string, string> = { starting: 'Starting', available: 'Available', working: 'Working', paused: 'Paused', error: 'Needs attention' };
      await expect
        .poll(
          async () => {
            const truth = await client.call('agent.state');
            const shown = {
              state: await header.getAttribute('data-state'),
              pill: (await page.getByTestId('state-pill').textContent())?.trim(),
              reason: (await page.getByTestId('state-reason').textContent())?.trim() ?? '',
            };
            return shown.state === truth.state && shown.pill === labels[truth.state] && shown.reason.length > 3 && truth.detail.toLowerCase().includes(shown.reason.toLowerCase());
          },
          { timeout: 5000, interval: 250 },
        )
        .toBe(true);
    } finally {
      client.close();
    }
  });

  it('updates a telemetry chart as samples arrive', async () => {
    const page = await openPage(agent!.url);
    const chart = page.getByTestId('gpu-card').first().getByTestId('chart-utilization');
    const line = chart.getByTestId('chart-line');
    await line.waitFor({ timeout: 10_000 });
    const before = { d: await line.getAttribute('d'), samples: Number(await chart.getAttribute('data-samples')) };
    expect(before.d).toMatch(/^M[\d.]+,[\d.]+/);
    expect((await chart.getByTestId('chart-value').textContent())?.trim()).toMatch(/^\d+%$/);
    await expect
      .poll(async () => ({ d: await line.getAttribute('d'), samples: Number(await chart.getAttribute('data-samples')) }), { timeout: 3500, interval: 250 })
      .toSatisfy((now: { d: string | null; samples: number }) => now.d !== before.d && now.samples > before.samples);
  });

  it('lists the system check’s items on its page, and runs it again on request', async () => {
    const page = await openPage(agent!.url);
    await page.getByTestId('nav-system').click();
    expect(new URL(page.url()).hash).toBe('#/system');
    const items = page.getByTestId('check-item');
    await expect.poll(() => items.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < (await items.count()); i++) {
      expect(await items.nth(i).getAttribute('data-status')).toMatch(/^(pass|warn|fail)$/);
      expect((await items.nth(i).locator('.check-message').textContent())?.trim().length).toBeGreaterThan(10);
    }
    // The fake nvidia-smi is on the agent's PATH: the GPU item must pass.
    expect(await page.getByTestId('page-system').textContent()).toContain('nvidia-smi');
    const rerun = page.getByTestId('check-rerun');
    await rerun.click();
    await expect.poll(() => rerun.isEnabled(), { timeout: 20_000 }).toBe(true);
    expect(await items.count()).toBeGreaterThanOrEqual(3);
  });

  it('without the token: says how to get one, and the agent refuses a WebSocket without it or with a wrong one', async () => {
    const origin = new URL(agent!.url).origin;
    const page = await openPage(`${origin}/`);
    const banner = page.getByTestId('connection-banner');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.getAttribute('data-phase')).toBe('no-token');
    expect(await banner.textContent()).toContain('No token: open the link the agent printed');
    expect(await page.getByTestId('gpu-card').count()).toBe(0);

    const outcomes = await page.evaluate(async (host) => {
      const attempt = (protocols: string[]) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://${host}/api`, protocols);
          ws.onopen = () => {
            ws.close();
            resolve('open');
          };
          ws.onclose = (e) => resolve(`closed ${e.code}`);
        });
      return { none: await attempt(['offshift']), wrong: await attempt(['offshift', `token.${'0'.repeat(64)}`]) };
    }, new URL(origin).host);
    expect(outcomes).toEqual({ none: 'closed 1006', wrong: 'closed 1006' });

    const wrong = await openPage(`${origin}/#token=${'0'.repeat(64)}`);
    const refused = wrong.getByTestId('connection-banner');
    await expect.poll(() => refused.getAttribute('data-phase'), { timeout: 10_000 }).toBe('rejected');
    expect(await refused.textContent()).toContain('refused');
  });

  it('uses window.offshift when the page has one (the Electron preload), with no token in the URL', async () => {
    // A stand-in for the preload's bridge (no Electron binary here): the same { request, onEvent }
    // shape, carried by a WebSocket that the page itself cannot see.
    const token = new URL(agent!.url).hash.replace('#token=', '');
    const bridge = `(() => {
      const listeners = new Set();
      const pending = new Map();
      let nextId = 1;
      const ws = new WebSocket('ws://' + location.host + '/api', ['offshift', 'token.${token}']);
      const ready = new Promise((resolve) => { ws.onopen = resolve; });
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === 'event') { for (const l of listeners) l(m.event, m.payload); return; }
        const p = pending.get(m.id);
        if (p) { pending.delete(m.id); p(m.ok ? { ok: true, result: m.result } : { ok: false, error: m.error }); }
      };
      window.offshift = {
        request: async (command, input) => { await ready; return new Promise((resolve) => { const id = nextId++; pending.set(id, resolve); ws.send(JSON.stringify({ type: 'request', id, command, input })); }); },
        onEvent: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
      };
    })();`;
    const context = await browser.newContext();
    contexts.push(context);
    await context.addInitScript({ content: bridge });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${new URL(agent!.url).origin}/#/gpus`);
    await expect.poll(() => page.getByTestId('gpu-card').count(), { timeout: 10_000 }).toBe(2);
    expect(await page.getByTestId('connection-banner').count()).toBe(0);
    const chart = page.getByTestId('gpu-card').nth(1).getByTestId('chart-temperature');
    const before = Number(await chart.getAttribute('data-samples'));
    await expect.poll(async () => Number(await chart.getAttribute('data-samples')), { timeout: 3500, interval: 250 }).toBeGreaterThan(before);
  });

  it('says it is reconnecting when the agent goes away, and recovers when it is back', async () => {
    const page = await openPage(agent!.url);
    await expect.poll(() => page.getByTestId('gpu-card').count(), { timeout: 10_000 }).toBe(2);
    const port = Number(new URL(agent!.url).port);
    await agent?.stop();

    const banner = page.getByTestId('connection-banner');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.textContent()).toContain('Disconnected from the agent — reconnecting');

    // Same data folder (same token) and port: the open page reconnects on its own.
    agent = await startAgent(home.home, fake, port);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.getByTestId('agent-state').getAttribute('data-state')).toMatch(/^(starting|available|working|paused|error)$/);
    expect(await page.getByTestId('gpu-card').count()).toBe(2);
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('dashboard on a machine without a GPU', () => {
  let fake: FakeGpuTools;
  let home: { home: string; cleanup: () => void };
  let agent: HeadlessAgent | undefined;
  let browser: Browser | null = null;

  beforeAll(() => {
    requireBuilt();
    // nvidia-smi present but failing like a machine whose driver is not loaded; no rocm-smi.
    fake = makeFakeGpuTools({ nvidiaFail: {} });
    home = makeTempHome('offshift-e2e-nogpu-');
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await agent?.stop();
    fake?.cleanup();
    home?.cleanup();
  });

  it('says there is no GPU and why, and links to the System check', async (ctx) => {
    const env = fake.env({ ...process.env, OFFSHIFT_HOME: home.home });
    const listed = JSON.parse(execFileSync(process.execPath, [CLI, 'gpus', '--json'], { env, encoding: 'utf8' })) as { gpus: unknown[] };
    if (listed.gpus.length > 0) {
      console.warn(`[e2e] no-GPU dashboard test skipped: this machine reports ${listed.gpus.length} GPU(s) without nvidia-smi (systeminformation).`);
      ctx.skip();
    }
    agent = await startAgent(home.home, fake);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(agent.url);
    const empty = page.getByTestId('no-gpus');
    await empty.waitFor({ timeout: 15_000 });
    expect(await empty.textContent()).toContain('No GPU found');
    // A new user without a GPU still sees the demo's CPU-only jobs run: the page says where.
    expect(await page.getByTestId('no-gpus-cpu-jobs').textContent()).toContain('jobs that need no GPU still run on this computer');
    expect(await page.getByTestId('gpu-card').count()).toBe(0);
    // Not an error: the machine takes jobs that need no GPU (issue 16); the reason names the missing GPU.
    expect(await page.getByTestId('agent-state').getAttribute('data-state')).toBe('available');
    expect(await page.getByTestId('state-reason').textContent()).toContain('No GPU found');
    await empty.getByRole('link', { name: 'Open the System check' }).click();
    await page.getByTestId('check-item').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid="check-item"][data-status="fail"]').count()).toBeGreaterThan(0);
  });
});
