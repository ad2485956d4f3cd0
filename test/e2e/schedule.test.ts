/**
 * The Schedule page end to end: a real headless agent (`node dist/runtime/cli.js agent`, fake
 * nvidia-smi, an admin policy file with a mandatory field) and the built dashboard in
 * Debian's Chromium: paint hours on the weekly grid with the mouse, save, reload, see them kept
 * (and the agent holding the same windows); the administrator's field is shown locked and
 * cannot be changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../helpers/fake-gpu-tools.js';
import { hasChromium, launchChromium, requireBuilt, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { makeTempHome } from '../helpers/temp-home.js';

warnIfNoChromium('schedule page tests');

describe.skipIf(!hasChromium)('Schedule page in Chromium against a real headless agent', () => {
  let fake: FakeGpuTools;
  let temp: ReturnType<typeof makeTempHome>;
  let agent: HeadlessAgent | undefined;
  let url: string;
  let browser: Browser;
  let client: Client;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    temp = makeTempHome('offshift-e2e-schedule-');
    const policy = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ mandatory: { schedule: { idle: { minutes: 20 } } } }));
    agent = await startHeadlessAgent(fake.env({ ...process.env, OFFSHIFT_HOME: path.join(temp.home, 'home'), OFFSHIFT_POLICY_FILE: policy }), { timeoutMs: 60_000 });
    url = agent.url;
    client = createClient(await connectWebSocket(agent.port, agent.token));
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    client?.close();
    await browser?.close().catch(() => {});
    await agent?.stop();
    fake?.cleanup();
    temp?.cleanup();
  });

  async function openSchedule(page: Page): Promise<void> {
    await page.evaluate("window.location.hash = '#/schedule'");
    await page.getByTestId('week-grid').waitFor({ timeout: 15_000 });
  }
  const cell = (page: Page, day: string, hour: number) => page.locator(`[data-testid="grid-cell"][data-day="${day}"][data-hour="${hour}"]`);
  async function drag(page: Page, from: [string, number], to: [string, number]): Promise<void> {
    const a = (await cell(page, ...from).boundingBox())!;
    const b = (await cell(page, ...to).boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
    await page.mouse.up();
  }
  const pressed = async (page: Page, day: string, hour: number) => (await cell(page, day, hour).getAttribute('aria-pressed')) === 'true';

  it('paint a window on the grid, save, reload: kept, and the agent holds the same windows', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await openSchedule(page);
    // No windows yet: any time, every hour on.
    // (Polled: on a busy machine the page may render the last mouse move a moment after it.)
    const on = () => page.locator('[data-testid="grid-cell"][aria-pressed="true"]').count();
    await expect.poll(on, { timeout: 10_000 }).toBe(168);
    // Clear the week, then paint Monday–Friday 22:00–24:00.
    await drag(page, ['mon', 0], ['sun', 23]);
    await expect.poll(on, { timeout: 10_000 }).toBe(0);
    await drag(page, ['mon', 22], ['fri', 23]);
    await expect.poll(on, { timeout: 10_000 }).toBe(10);
    await page.getByTestId('schedule-save').click();
    await page.getByTestId('schedule-saved').waitFor();

    const view = await client.call('schedule.get');
    expect(view.effective.windows).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '00:00' }]);

    await page.reload();
    await openSchedule(page);
    await expect.poll(() => page.locator('[data-testid="grid-cell"][aria-pressed="true"]').count(), { timeout: 10_000 }).toBe(10);
    expect(await pressed(page, 'mon', 22)).toBe(true);
    expect(await pressed(page, 'fri', 23)).toBe(true);
    expect(await pressed(page, 'mon', 21)).toBe(false);
    expect(await pressed(page, 'sat', 22)).toBe(false);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("the administrator's mandatory field is shown locked and cannot be changed", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    const page = await context.newPage();
    await page.goto(url);
    await openSchedule(page);
    const minutes = page.getByTestId('idle-minutes');
    expect(await minutes.inputValue()).toBe('20');
    expect(await minutes.isDisabled()).toBe(true);
    const field = page.locator('.sched-field', { has: minutes });
    expect(await field.getAttribute('data-locked')).toBe('true');
    expect(await field.getByTestId('lock-note').textContent()).toContain('Set by your administrator');
    expect(await page.getByTestId('schedule-policy').textContent()).toContain('administrator');
    // Fields that are not locked stay editable.
    expect(await page.getByTestId('idle-required').isDisabled()).toBe(false);
    expect(await page.getByTestId('thermal-pause').isDisabled()).toBe(false);
    // And the agent refuses the change whatever the page does.
    await expect(client.call('schedule.set', { idle: { minutes: 1 } })).rejects.toMatchObject({ code: 'locked-by-policy' });
    expect((await client.call('schedule.get')).effective.idle.minutes).toBe(20);
    await context.close();
  });

  it('snooze for an hour from the page pauses the agent; resume undoes it', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    const page = await context.newPage();
    await page.goto(url);
    await openSchedule(page);
    await page.getByTestId('snooze-hour').click();
    await expect.poll(async () => (await client.call('agent.state')).reason, { timeout: 5000 }).toBe('snoozed');
    await expect.poll(() => page.getByTestId('snooze-status').textContent()).toContain('Paused until');
    await page.getByTestId('snooze-resume').click();
    await expect.poll(async () => (await client.call('agent.state')).reason, { timeout: 5000 }).not.toBe('snoozed');
    await context.close();
  });
});
