/**
 * The Settings page end to end: a real headless agent (`node dist/runtime/cli.js agent`, an admin
 * policy that locks the update channel) and the built dashboard in Debian's Chromium. A change
 * saves at once and survives a reload (the agent holds it in settings.json); the admin's field is
 * locked on the page and refused by the agent; what the desktop app reports about itself
 * (`desktop.host`: no real keychain, the update status) reaches the open page live; and a
 * password cannot be remembered where no desktop app can keep it, with the reason shown.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';
import { hasChromium, launchChromium, requireBuilt, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { makeTempHome } from '../helpers/temp-home.js';

warnIfNoChromium('settings page tests');

describe.skipIf(!hasChromium)('Settings page in Chromium against a real headless agent', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let agent: HeadlessAgent | undefined;
  let url: string;
  let browser: Browser;
  let client: Client;
  let home: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    temp = makeTempHome('offshift-e2e-settings-');
    home = path.join(temp.home, 'home');
    const policy = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ mandatory: { desktop: { updateChannel: 'stable' } } }));
    agent = await startHeadlessAgent({ ...process.env, OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policy, PATH: '/usr/bin:/bin' }, { timeoutMs: 60_000 });
    url = agent.url;
    client = createClient(await connectWebSocket(agent.port, agent.token));
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    client?.close();
    await browser?.close().catch(() => {});
    await agent?.stop();
    temp?.cleanup();
  });

  async function openSettings(page: Page): Promise<void> {
    await page.evaluate("window.location.hash = '#/settings'");
    await page.getByTestId('set-open-at-login').waitFor({ timeout: 15_000 });
  }

  it('a change saves at once, is kept by the agent in settings.json, and survives a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1400 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await openSettings(page);
    expect(await page.getByTestId('settings-no-host').textContent()).toContain('No desktop app is attached');
    expect(await page.getByTestId('set-open-at-login').isChecked()).toBe(false);
    await page.getByTestId('set-open-at-login').check();
    await page.getByTestId('settings-saved').waitFor();
    await page.getByTestId('set-notify-jobFinished').uncheck();
    await expect.poll(async () => (await client.call('desktop.settings', {})).effective.notifications.jobFinished, { timeout: 10_000 }).toBe(false);

    const view = await client.call('desktop.settings', {});
    expect(view.effective.openAtLogin).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).desktop).toEqual({ openAtLogin: true, notifications: { jobFinished: false } });

    await page.reload();
    await openSettings(page);
    expect(await page.getByTestId('set-open-at-login').isChecked()).toBe(true);
    expect(await page.getByTestId('set-notify-jobFinished').isChecked()).toBe(false);
    expect(await page.getByTestId('set-notify-paused').isChecked()).toBe(true);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("the administrator's update channel is locked on the page and refused by the agent", async () => {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1400 } });
    const page = await context.newPage();
    await page.goto(url);
    await openSettings(page);
    expect(await page.getByTestId('set-channel-beta').isDisabled()).toBe(true);
    expect(await page.getByTestId('set-channel-stable').getAttribute('aria-checked')).toBe('true');
    expect(await page.locator('.set-field', { has: page.getByTestId('set-channel-beta') }).getByTestId('set-locked').textContent()).toContain('Set by your administrator');
    expect(await page.getByTestId('set-close-to-tray').isDisabled()).toBe(false);
    await expect(client.call('desktop.settings', { updateChannel: 'beta' })).rejects.toMatchObject({ code: 'locked-by-policy' });
    await context.close();
  });

  it('what the desktop app reports reaches the open page live: no real keychain, the update status; remembering is refused with the reason', async () => {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1400 } });
    const page = await context.newPage();
    await page.goto(url);
    await openSettings(page);
    expect(await page.getByTestId('set-remember-password').isDisabled()).toBe(true);
    // As the desktop app on a Linux session without a keyring reports itself:
    await client.call('desktop.host', {
      host: {
        mode: 'embedded',
        keychain: { available: false, backend: 'basic_text', reason: 'No keychain runs in this session (basic_text).' },
        passwordRemembered: false,
        update: 'Update 0.2.0 ready: it installs when you quit.',
        openAtLogin: true,
      },
    });
    await expect.poll(() => page.getByTestId('set-keychain-reason').textContent().catch(() => null), { timeout: 10_000 }).toContain('basic_text');
    expect(await page.getByTestId('set-update-status').textContent()).toContain('Update 0.2.0 ready');
    expect(await page.getByTestId('set-remember-password').isDisabled()).toBe(true);

    // A keychain that works, but this agent has no desktop app to keep the password: the reason is shown.
    await client.call('desktop.host', { host: { mode: 'embedded', keychain: { available: true, backend: 'gnome_libsecret', reason: null }, passwordRemembered: false, update: 'Offshift is up to date.', openAtLogin: true } });
    await expect.poll(() => page.getByTestId('set-remember-password').isDisabled(), { timeout: 10_000 }).toBe(false);
    await page.getByTestId('set-remember-password').click();
    await page.getByTestId('set-password').fill('not stored anywhere');
    await page.getByRole('button', { name: 'Remember' }).click();
    await page.getByTestId('settings-error').waitFor();
    expect(await page.getByTestId('settings-error').textContent()).toContain('Only the desktop app can keep the wallet password');
    expect((await client.call('desktop.settings', {})).effective.rememberWalletPassword).toBe(false);
    await client.call('desktop.host', { host: null });
    await context.close();
  });
});
