/**
 * Retention end to end: a real agent (in this process) runs real jobs that leave real output on
 * disk; the rule is shown and tightened on the Settings page in Chromium, applied at once (the
 * oldest folders go, a running job's is untouched), and the job view says the output was removed.
 * An administrator's lock (policy file) is shown on the page and refused by the agent.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { loadOrCreateToken } from '../../../runtime/api/token.js';
import { startWebSocketServer, type RunningServer } from '../../../runtime/api/transports/websocket-server.js';
import { silentLogger } from '../../../runtime/log.js';
import { DASHBOARD, hasChromium, launchChromium, warnIfNoChromium } from '../../helpers/headless-agent.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { skipReason } from './harness.js';

warnIfNoChromium('retention page test');
const MB = 1_000_000;

describe.skipIf(skipReason !== null || !hasChromium)('retention of job outputs, on a real agent and in Chromium', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let home: string;
  let agent: Agent;
  let server: RunningServer;
  let browser: Browser;
  let image: string;

  beforeAll(async () => {
    if (!fs.existsSync(DASHBOARD)) throw new Error('dist/renderer/index.html is missing: run npm run build first (npm test does).');
    image = sandboxTestImage();
    temp = makeTempHome('offshift-retention-');
    home = path.join(temp.home, 'home');
    const policyFile = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policyFile, JSON.stringify({ mandatory: { retention: { maxAgeDays: 30 } } }));
    agent = createAgent({ home, env: { ...process.env, OFFSHIFT_HOME: home }, log: silentLogger, policyFile });
    server = await startWebSocketServer({ dispatch: agent.dispatch, bus: agent.bus, token: loadOrCreateToken(home), port: 0, staticDir: path.dirname(DASHBOARD) });
    await agent.start();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await agent?.stop();
    temp?.cleanup();
  });

  const jobDir = (id: string) => path.join(home, 'jobs', id);

  it('shows the rule and what outputs use, applies a tighter one at once (oldest first, never a running job), and the job view says what was removed', async () => {
    const client = agent.client();
    // Four finished jobs, each leaving 6 MB of output and a log line; then one that keeps running.
    const finished: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { job } = await client.call('jobs.run', { spec: { image, command: ['sh', '-c', `head -c ${6 * MB} /dev/urandom > /output/data-${i}.bin; echo wrote ${i}`], outputMiB: 8 } });
      expect(await agent.jobs.runner.wait(job.id)).toMatchObject({ state: 'succeeded' });
      finished.push(job.id);
    }
    for (const id of finished) expect(fs.statSync(path.join(jobDir(id), 'output', `data-${finished.indexOf(id)}.bin`)).size).toBe(6 * MB);
    const { job: running } = await client.call('jobs.run', { spec: { image, command: ['sh', '-c', `head -c ${2 * MB} /dev/urandom > /output/partial.bin; echo started; sleep 120`], outputMiB: 8, timeoutSeconds: 300 } });
    await expect.poll(async () => (await client.call('jobs.logs', { id: running.id })).text, { timeout: 20_000 }).toContain('started');

    const before = await client.call('jobs.retention', {});
    expect(before.effective).toEqual({ maxAgeDays: 30, maxTotalMiB: 1024 });
    expect(before.locked).toEqual(['retention.maxAgeDays']);
    expect(before.usage.jobs).toBe(5);
    expect(before.usage.heldJobs).toBe(1);
    expect(before.usage.bytes).toBeGreaterThanOrEqual(24 * MB);

    const page = await (await browser.newContext({ viewport: { width: 1300, height: 1600 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}#token=${loadOrCreateToken(home)}`);
    await page.evaluate("window.location.hash = '#/settings'");
    const section = page.getByTestId('settings-retention');
    await section.waitFor({ timeout: 15_000 });
    // The rule and what it uses now; the admin's field is locked.
    expect(await page.getByTestId('retention-days').inputValue()).toBe('30');
    expect(await page.getByTestId('retention-days').isDisabled()).toBe(true);
    expect(await section.getByTestId('set-locked').count()).toBe(1);
    expect(await page.getByTestId('retention-usage').textContent()).toMatch(/in 5 job folders, of which .* in 1 kept until the job ends/);

    // Tighten the size rule on the page: 16 MiB for ~26 MB of folders.
    await page.getByTestId('retention-mib').fill('16');
    await page.getByTestId('retention-save').click();
    await expect.poll(() => page.getByTestId('retention-saved').textContent(), { timeout: 10_000 }).toMatch(/Saved and applied: .* removed/);
    // Oldest first, until under the limit; the running job's folder is never touched.
    expect(finished.map((id) => fs.existsSync(jobDir(id)))).toEqual([false, false, true, true]);
    expect(fs.statSync(path.join(jobDir(running.id), 'output', 'partial.bin')).size).toBe(2 * MB);
    expect((await client.call('jobs.get', { id: running.id })).job.state).toBe('running');
    const after = await client.call('jobs.retention', {});
    expect(after.effective.maxTotalMiB).toBe(16);
    expect(after.usage.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(after.lastRun).toMatchObject({ removedJobs: 2 });
    // Kept in settings.json like every other section.
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8'))).toMatchObject({ retention: { maxTotalMiB: 16 } });

    // The agent says what happened to the removed job's output and log; its record stays.
    const outputs = await client.call('jobs.outputs', { id: finished[0]! });
    expect(outputs.files).toEqual([]);
    expect(outputs.removed).toMatchObject({ rule: 'size' });
    expect(outputs.removed!.bytes).toBeGreaterThanOrEqual(6 * MB);
    expect((await client.call('jobs.logs', { id: finished[0]! })).text).toMatch(/full log was removed .* by the retention rule \(over the size limit\)[\s\S]*wrote 0/);
    expect((await client.call('jobs.get', { id: finished[0]! })).job.state).toBe('succeeded');
    expect((await client.call('jobs.outputs', { id: finished[3]! })).removed).toBeNull();

    // The job view says so too.
    await page.evaluate("window.location.hash = '#/jobs'");
    await page.locator(`[data-testid="job-row"][data-job-id="${finished[0]}"]`).click();
    await expect.poll(() => page.getByTestId('job-output-removed').textContent(), { timeout: 10_000 }).toMatch(/removed on .* by the retention rule: all outputs together were over the size/);

    // The admin's field is refused by the agent as well, with the policy file named.
    await expect(client.call('jobs.retention', { maxAgeDays: 2 })).rejects.toMatchObject({ code: 'locked-by-policy', message: expect.stringContaining('policy.json') });
    // Bad input is refused with the field named, and nothing is lost.
    await expect(client.call('jobs.retention', { maxTotalMiB: 1 })).rejects.toMatchObject({ code: 'invalid-input' });
    expect((await client.call('jobs.retention', {})).effective.maxTotalMiB).toBe(16);

    await client.call('jobs.cancel', { id: running.id });
    expect(errors).toEqual([]);
  }, 180_000);
});
