/**
 * The Wallet and Earnings pages end to end: a real local chain (`offshift devnet up`, a detached
 * anvil), a real headless agent (`node dist/runtime/cli.js agent`), the built dashboard in real
 * Chromium. Create a wallet, see its address, redeem a voucher, see the earnings, export the CSV,
 * withdraw with the fee shown first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../runtime/chain/anvil.js';
import { runCli } from '../../runtime/cli.js';
import { hasChromium, launchChromium, requireBuilt, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { makeTempHome } from '../helpers/temp-home.js';

warnIfNoChromium('wallet tests');

describe.skipIf(!hasChromium)('Wallet and Earnings pages in Chromium against a real agent and chain', () => {
  let home: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let agent: HeadlessAgent | undefined;
  let url = '';
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let address = '';

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    if (code !== 0) throw new Error(`offshift ${argv.join(' ')} exited ${code}: ${stderr}`);
    return stdout;
  }

  beforeAll(async () => {
    requireBuilt();
    home = makeTempHome('offshift-e2e-wallet-');
    env = { ...process.env, OFFSHIFT_HOME: home.home, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', OFFSHIFT_PORT: undefined };
    await cli('devnet', 'up', '--port', String(await freePort()), '--json');
    agent = await startHeadlessAgent(env);
    url = agent.url;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await agent?.stop();
    await runCli(['devnet', 'down'], { env, stdout: () => {}, stderr: () => {} });
    home?.cleanup();
  });

  it('creates a wallet, confirms the recovery phrase, and shows the address with a QR code', async () => {
    await page.getByRole('link', { name: 'Wallet' }).click();
    await page.getByTestId('wallet-password').fill('e2e wallet password');
    await page.getByTestId('wallet-password-again').fill('e2e wallet password');
    await page.getByTestId('wallet-submit').click();
    const words = (await page.getByTestId('mnemonic-words').textContent({ timeout: 15_000 }))!.match(/\d+\. [a-z]+/g)!.map((w) => w.split(' ')[1]!);
    expect(words).toHaveLength(12);
    const index = Number(await page.getByTestId('mnemonic-confirm').getAttribute('data-word-index'));
    await expect.poll(() => page.getByTestId('mnemonic-done').isDisabled()).toBe(true);
    await page.getByTestId('mnemonic-confirm').fill(words[index]!);
    await page.getByTestId('mnemonic-done').click();
    address = (await page.getByTestId('wallet-address').textContent({ timeout: 10_000 }))!.trim();
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    await expect.poll(() => page.getByTestId('wallet-qr').count()).toBe(1);
    // The page shows the agent's own address.
    const status = JSON.parse(await cli('wallet', 'status', '--json'));
    expect(status.address).toBe(address);
  });

  it('redeems a voucher and shows the tokens', async () => {
    await cli('devnet', 'fund', address, '--eth', '1');
    const file = path.join(home.home, 'voucher.json');
    await cli('devnet', 'voucher', '--provider', address, '--job', 'e2e-job-1', '--amount', '42.5', '--out', file);
    await page.getByTestId('wallet-voucher').fill(fs.readFileSync(file, 'utf8'));
    await page.getByTestId('wallet-redeem-voucher').click();
    await expect.poll(() => page.getByTestId('wallet-notice').textContent(), { timeout: 20_000 }).toMatch(/Redeemed 42\.5 OFT/);
    await expect.poll(() => page.getByTestId('wallet-token-balance').textContent(), { timeout: 10_000 }).toMatch(/^42\.5\s*OFT$/);
  });

  it('shows the earnings and exports them as CSV', async () => {
    await page.getByRole('link', { name: 'Earnings' }).click();
    await expect.poll(() => page.getByTestId('earnings-today').textContent(), { timeout: 10_000 }).toMatch(/^42\.5/);
    expect(await page.getByTestId('earnings-redeemed').textContent()).toMatch(/^42\.5/);
    const rows = page.getByTestId('earnings-job-row');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('redeemed');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('earnings-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^offshift-earnings-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('date,job_id,local_job_id,gpus,duration_s,amount,token,status,redeem_tx,paid_to');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatch(/,42\.5,OFT,redeemed,0x[0-9a-f]{64},$/);
  });

  it('withdraws with the fee shown before confirming', async () => {
    await page.getByRole('link', { name: 'Wallet' }).click();
    await page.getByTestId('wallet-withdraw-open').click();
    await page.getByTestId('withdraw-to').fill('0x90F79bf6EB2c4f870365E785982E1f101E93b906');
    await page.getByTestId('withdraw-amount').fill('2.5');
    await page.getByTestId('withdraw-prepare').click();
    await expect.poll(() => page.getByTestId('withdraw-fee').textContent(), { timeout: 10_000 }).toMatch(/Send 2\.5 OFT.*Network fee: at most [0-9.]+ ETH/);
    await page.getByTestId('withdraw-confirm').click();
    await expect.poll(() => page.getByTestId('wallet-notice').textContent(), { timeout: 20_000 }).toMatch(/Sent 2\.5 OFT/);
    await expect.poll(() => page.getByTestId('wallet-token-balance').textContent(), { timeout: 10_000 }).toMatch(/^40\s*OFT$/);
    expect(pageErrors).toEqual([]);
  });

  it('sends earnings to a payout address: set on the Wallet page, a voucher naming it is redeemed to it, and the earnings say where the money went', async () => {
    const payout = Wallet.createRandom().address;
    await page.getByRole('link', { name: 'Wallet' }).click();
    await page.getByTestId('payout-address-input').fill(payout);
    await page.getByRole('button', { name: 'Pay earnings there' }).click();
    await expect.poll(() => page.getByTestId('payout-address-value').textContent(), { timeout: 10_000 }).toBe(payout);
    expect(JSON.parse(await cli('wallet', 'settings', '--json')).payout).toEqual({ address: payout, locked: false, problem: null });

    // A voucher paying this machine's own key is refused now; one naming the payout address is redeemed to it.
    const own = path.join(home.home, 'voucher-own.json');
    await cli('devnet', 'voucher', '--provider', address, '--job', 'e2e-job-2', '--amount', '7', '--out', own);
    await page.getByTestId('wallet-voucher').fill(fs.readFileSync(own, 'utf8'));
    await page.getByTestId('wallet-redeem-voucher').click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 20_000 }).toMatch(/this machine's own address .* not the payout address/);
    const toPayout = path.join(home.home, 'voucher-payout.json');
    await cli('devnet', 'voucher', '--provider', address, '--payee', payout, '--job', 'e2e-job-3', '--amount', '7', '--out', toPayout);
    await page.getByTestId('wallet-voucher').fill(fs.readFileSync(toPayout, 'utf8'));
    await page.getByTestId('wallet-redeem-voucher').click();
    await expect.poll(() => page.getByTestId('wallet-notice').textContent(), { timeout: 20_000 }).toMatch(/Redeemed 7 OFT/);
    // The machine's own balance did not move: the money went to the payout address.
    expect(await page.getByTestId('wallet-token-balance').textContent()).toMatch(/^40\s*OFT$/);
    await page.getByRole('link', { name: 'Earnings' }).click();
    await expect.poll(() => page.locator(`[data-testid="earnings-paid-to"][title="${payout}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('earnings-job-row').count()).toBe(2);

    await page.getByRole('link', { name: 'Wallet' }).click();
    await page.getByTestId('payout-address-clear').click();
    await expect.poll(() => page.getByTestId('payout-address').textContent(), { timeout: 10_000 }).toContain("Earnings go to this machine's wallet");
    expect(pageErrors).toEqual([]);
  });
});
