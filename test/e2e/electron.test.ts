/**
 * Smoke test of the real desktop app with Playwright's `_electron`: the window loads the
 * dashboard from app://, `window.offshift` is the only bridge, the agent answers through it,
 * navigation is refused, and a killed agent comes back; the tray shows the agent's state and
 * offers pause, Open and Quit; closing the window keeps the app in the tray, and Quit quits. It needs the Electron binary (and, on
 * Linux, a display); where they are missing it is reported as skipped, with the reason.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, type ElectronApplication } from 'playwright';
import { afterAll, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../main/launcher/electron-binary.js';
import type { OffshiftBridge } from '../../runtime/api/bridge.js';
import { makeTempHome } from '../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = findElectronBinary(createRequire(import.meta.url));
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skipReason = !binary.found ? `the Electron binary is not available here (${binary.reason})` : noDisplay ? 'there is no display (DISPLAY / WAYLAND_DISPLAY unset)' : null;
const hasElectronBinary = skipReason === null;

if (!hasElectronBinary) {
  console.warn(`SKIPPED test/e2e/electron.test.ts: ${skipReason}. This smoke test runs where Electron can start; main/ and preload/ are covered here by test/unit/main and test/unit/preload with electron mocked.`);
}

type Page = { offshift: OffshiftBridge; require?: unknown; process?: unknown; location: { href: string } };

describe('the desktop app (Playwright _electron)', () => {
  let app: ElectronApplication | null = null;
  const temp = makeTempHome('offshift-e2e-electron-');
  afterAll(async () => {
    await app?.close();
    temp.cleanup();
  });

  it.skipIf(!hasElectronBinary)('opens the dashboard with only window.offshift, reaches the agent, refuses navigation and survives an agent crash', async () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
    app = await electron.launch({ args: [root], cwd: root, env: { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_AGENT_MODE: 'embedded', OFFSHIFT_TEST_HOOKS: '1' } as Record<string, string> });
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toBe('app://offshift/index.html');

    const surface = await page.evaluate(() => {
      const w = globalThis as unknown as Page;
      return { keys: Object.keys(w.offshift).sort(), require: typeof w.require, process: typeof w.process };
    });
    expect(surface).toEqual({ keys: ['onEvent', 'request'], require: 'undefined', process: 'undefined' });

    const info = await page.evaluate(() => (globalThis as unknown as Page).offshift.request('agent.info', {}));
    expect(info).toMatchObject({ ok: true, result: { home: temp.home } });
    const firstPid = (info as { result: { pid: number } }).result.pid;

    await page.evaluate(() => {
      (globalThis as unknown as Page).location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe('app://offshift/index.html');

    process.kill(firstPid, 'SIGKILL');
    await expect
      .poll(
        async () => {
          const again = await page.evaluate(() => (globalThis as unknown as Page).offshift.request('agent.info', {}));
          return again.ok ? (again.result as { pid: number }).pid : null;
        },
        { timeout: 20_000 },
      )
      .not.toBeOneOf([null, firstPid]);
  });

  it.skipIf(!hasElectronBinary)('lives in the tray: the menu shows the state and pause choices; closing the window keeps the app running; Quit quits', async () => {
    if (!app) throw new Error('the first test did not start the app');
    // The tray's menu, read in main (Electron's Tray has no public getter: main keeps the last template).
    const trayLabels = async () =>
      app!.evaluate(() => {
        const tray = (globalThis as unknown as { __offshiftTrayMenu?: Array<{ label?: string }> }).__offshiftTrayMenu;
        return (tray ?? []).map((i) => i.label ?? '---');
      });
    await expect.poll(trayLabels, { timeout: 20_000 }).toContain('Open Offshift');
    const labels = await trayLabels();
    expect(labels).toContain('Pause for 1 hour');
    expect(labels.at(-1)).toMatch(/^Quit Offshift/);

    // Close the window as its close button would (the 'close' event).
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
    // Closed to the tray: the app and its agent are still there.
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.isVisible()));
    expect(windows).toEqual([false]);
    expect(await app.evaluate(({ app: a }) => a.isReady())).toBe(true);

    const closed = new Promise<void>((resolve) => app!.process().once('exit', () => resolve()));
    await app.evaluate(({ app: a }) => a.quit());
    await closed;
    app = null;
  });
});
