import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { findElectronBinary } from '../../../main/launcher/electron-binary.js';
import { browserOpener } from '../../../main/launcher/headless.js';
import { DOWNLOAD_TIMEOUT_MS, launch, type LaunchDeps } from '../../../main/launcher/launch.js';
import { runWithTimeout } from '../../../main/launcher/run-with-timeout.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function deps(overrides: Partial<LaunchDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const d: LaunchDeps = {
    env: { DISPLAY: ':0' },
    platform: 'linux',
    findBinary: () => ({ found: false, reason: 'the electron package has no downloaded binary' }),
    download: vi.fn(async () => ({ outcome: 'failed' as const, code: 1, signal: null, output: 'HTTPError: 404' })),
    runElectron: vi.fn(async () => ({ code: 0, signal: null })),
    now: () => 0,
    print: (l) => out.push(l),
    printError: (l) => err.push(l),
    ...overrides,
  };
  return { d, out, err };
}

describe('launch (npm start)', () => {
  it('without a binary and with the download turned off: one clear message pointing to npm run agent, exit 1', async () => {
    const { d, out, err } = deps({ env: { OFFSHIFT_ELECTRON_DOWNLOAD: '0', DISPLAY: ':0' } });
    expect(await launch(d)).toBe(1);
    expect(d.download).not.toHaveBeenCalled();
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('the Electron binary is not available on this machine');
    expect(err[0]).toContain('npm run agent');
    expect(d.runElectron).not.toHaveBeenCalled();
  });

  it('tries the download once, with a time limit, and says why it did not help', async () => {
    const download = vi.fn(async (timeoutMs: number) => ({ outcome: 'timeout' as const, timeoutMs }));
    const { d, out, err } = deps({ download });
    expect(await launch(d)).toBe(1);
    expect(download).toHaveBeenCalledOnce();
    expect(download).toHaveBeenCalledWith(DOWNLOAD_TIMEOUT_MS);
    expect(DOWNLOAD_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
    expect(out).toEqual([expect.stringMatching(/^Downloading Electron…/)]);
    expect(err).toEqual([expect.stringContaining('the download did not finish within 20 s')]);
    expect(err[0]).not.toContain('HTTPError');
  });

  it('starts Electron when the download brings the binary', async () => {
    let downloaded = false;
    const { d, err } = deps({
      findBinary: () => (downloaded ? { found: true, path: '/x/electron' } : { found: false, reason: 'missing' }),
      download: vi.fn(async () => {
        downloaded = true;
        return { outcome: 'ok' as const };
      }),
    });
    expect(await launch(d)).toBe(0);
    expect(d.runElectron).toHaveBeenCalledWith('/x/electron');
    expect(err).toEqual([]);
  });

  it('forwards Electron\'s exit code', async () => {
    let t = 0;
    const { d, err } = deps({ findBinary: () => ({ found: true, path: '/x/electron' }), runElectron: vi.fn(async () => ({ code: 3, signal: null })), now: () => (t += 60_000) });
    expect(await launch(d)).toBe(3);
    expect(err).toEqual([]); // a late exit is the app's own business
  });

  it('explains an Electron that cannot start or exits at once', async () => {
    const spawnFails = deps({ findBinary: () => ({ found: true, path: '/x/electron' }), runElectron: vi.fn(async () => ({ error: 'spawn EACCES' })) });
    expect(await launch(spawnFails.d)).toBe(1);
    expect(spawnFails.err).toEqual([expect.stringMatching(/could not start \(spawn EACCES\).*npm run agent/)]);

    const early = deps({ findBinary: () => ({ found: true, path: '/x/electron' }), runElectron: vi.fn(async () => ({ code: 127, signal: null })) });
    expect(await launch(early.d)).toBe(127);
    expect(early.err).toEqual([expect.stringMatching(/exited with code 127 right after starting.*npm run agent/)]);
  });

  it('says so when a Linux machine has no display', async () => {
    const { d, err } = deps({ env: {}, findBinary: () => ({ found: true, path: '/x/electron' }) });
    expect(await launch(d)).toBe(1);
    expect(err).toEqual([expect.stringMatching(/no graphical display.*npm run agent/)]);
    expect(d.runElectron).not.toHaveBeenCalled();
  });
});

describe('launch falls back to the headless agent and its dashboard', () => {
  it('without a binary: one line saying why there is no desktop window, then the headless agent runs until it stops', async () => {
    const runHeadless = vi.fn(async () => 0);
    const { d, out, err } = deps({ env: { OFFSHIFT_ELECTRON_DOWNLOAD: '0', DISPLAY: ':0' }, runHeadless });
    expect(await launch(d)).toBe(0);
    expect(runHeadless).toHaveBeenCalledOnce();
    expect(out).toEqual([]);
    expect(err).toEqual([expect.stringMatching(/^Offshift: the Electron binary is not available on this machine \(.*\), so Offshift runs as the headless agent with its dashboard in your browser instead \(Ctrl-C stops it\)\.$/)]);
    expect(d.runElectron).not.toHaveBeenCalled();
  });
  it('without a display on Linux: the same, saying there is no display; its exit code is the launcher\'s', async () => {
    const runHeadless = vi.fn(async () => 130);
    const { d, err } = deps({ env: {}, findBinary: () => ({ found: true, path: '/x/electron' }), runHeadless });
    expect(await launch(d)).toBe(130);
    expect(err).toEqual([expect.stringContaining('there is no graphical display here')]);
    expect(d.runElectron).not.toHaveBeenCalled();
  });
  it('OFFSHIFT_HEADLESS_FALLBACK=0 only explains', async () => {
    const runHeadless = vi.fn(async () => 0);
    const { d, err } = deps({ env: { OFFSHIFT_ELECTRON_DOWNLOAD: '0', OFFSHIFT_HEADLESS_FALLBACK: '0' }, runHeadless });
    expect(await launch(d)).toBe(1);
    expect(runHeadless).not.toHaveBeenCalled();
    expect(err[0]).toContain('npm run agent');
  });
  it('opens the browser with xdg-open (with a display), open or start; never without a display or when asked not to', () => {
    const has = () => true;
    expect(browserOpener('linux', { DISPLAY: ':0' }, has)!.command).toBe('xdg-open');
    expect(browserOpener('linux', {}, has)).toBeNull();
    expect(browserOpener('linux', { DISPLAY: ':0' }, () => false)).toBeNull();
    expect(browserOpener('darwin', {}, has)!.args('http://127.0.0.1:7878/#token=x')).toEqual(['http://127.0.0.1:7878/#token=x']);
    expect(browserOpener('win32', {}, has)!.args('http://h/#a&b')).toEqual(['/c', 'start', '""', 'http://h/#a^&b']);
    expect(browserOpener('darwin', { OFFSHIFT_OPEN_BROWSER: '0' }, has)).toBeNull();
  });
});

describe('findElectronBinary', () => {
  it('reads the path the electron package exports, and checks the file is there', () => {
    expect(findElectronBinary(() => '/e/electron', () => true)).toEqual({ found: true, path: '/e/electron' });
    expect(findElectronBinary(() => '/e/electron', () => false)).toEqual({ found: false, reason: 'the Electron binary is missing at /e/electron' });
  });

  it('never throws when the package throws (no binary) or is absent', () => {
    const noBinary = () => {
      throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');
    };
    expect(findElectronBinary(noBinary)).toEqual({ found: false, reason: 'the electron package has no downloaded binary' });
    const absent = () => {
      throw Object.assign(new Error("Cannot find module 'electron'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(findElectronBinary(absent)).toMatchObject({ found: false, reason: expect.stringContaining('not installed') });
  });
});

describe('runWithTimeout (the download attempt\'s time limit)', () => {
  it('kills a command that runs too long and settles promptly', async () => {
    const started = Date.now();
    const result = await runWithTimeout(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { timeoutMs: 300 });
    expect(result).toEqual({ outcome: 'timeout', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports success, failure with the captured output, and a command that cannot start', async () => {
    expect(await runWithTimeout(process.execPath, ['-e', 'process.exit(0)'], { timeoutMs: 10_000 })).toEqual({ outcome: 'ok' });
    expect(await runWithTimeout(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'], { timeoutMs: 10_000 })).toMatchObject({
      outcome: 'failed',
      code: 3,
      output: expect.stringContaining('boom'),
    });
    expect(await runWithTimeout('/nonexistent/offshift-no-such-tool', [], { timeoutMs: 10_000 })).toMatchObject({ outcome: 'spawn-error' });
  });
});

const hasElectronBinary = findElectronBinary(createRequire(import.meta.url)).found;
if (hasElectronBinary) console.warn('SKIPPED the launcher\'s no-binary test: this machine has the Electron binary, so `npm start` would open the app.');

describe('the built launcher (node dist/main/launcher.js)', () => {
  beforeAll(() => {
    // The launcher and the CLI it falls back to, built as `npm start` builds them.
    execFileSync('npm', ['run', '-s', 'build:node'], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  it.skipIf(hasElectronBinary)('without the Electron binary: one line why, the headless agent prints its URL, the browser opens it, Ctrl-C stops it cleanly', async () => {
    const temp = makeTempDir('offshift-launcher-');
    try {
      // A stand-in browser: xdg-open on PATH that writes down the URL it was given.
      const bin = path.join(temp, 'bin');
      fs.mkdirSync(bin);
      const opened = path.join(temp, 'opened.txt');
      fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
      const child = spawn(process.execPath, [path.join(root, 'dist/main/launcher.js')], {
        cwd: root,
        env: { ...process.env, OFFSHIFT_ELECTRON_DOWNLOAD: '0', OFFSHIFT_HOME: path.join(temp, 'home'), OFFSHIFT_PORT: '0', OFFSHIFT_AGENT_MODE: 'embedded', DISPLAY: ':99', PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await vi.waitFor(() => expect(stdout).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}/), { timeout: 60_000, interval: 100 });
      const url = /Dashboard: (\S+)/.exec(stdout)![1]!;
      await vi.waitFor(() => expect(fs.readFileSync(opened, 'utf8')).toBe(url), { timeout: 10_000, interval: 100 });
      const firstLine = stderr.split('\n')[0]!;
      expect(firstLine).toMatch(/^Offshift: the Electron binary is not available on this machine .*headless agent with its dashboard in your browser instead/);
      const response = await fetch(url.replace(/#.*/, ''));
      expect(response.status).toBeLessThan(500);
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
      if (code === 'hung') child.kill('SIGKILL');
      expect(code).toBe(0);
      expect(stdout).toContain('Stopping the agent');
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }, 120_000);
});
