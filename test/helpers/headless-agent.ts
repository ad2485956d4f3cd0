/**
 * What the browser tests share: a real headless agent (`node dist/runtime/cli.js agent`) started
 * on a data folder of the test's own, and Debian's Chromium launched the way this machine allows.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');
export const DASHBOARD = path.join(ROOT, 'dist', 'renderer', 'index.html');
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);

/** Warns once per test file when Chromium is missing, so a skipped browser test says why. */
export function warnIfNoChromium(what: string): void {
  if (!hasChromium) console.warn(`[e2e] ${what} skipped: ${CHROMIUM} is missing (Debian: apt-get install chromium).`);
}

/** Throws the instruction a developer needs when the build the test drives is missing. */
export function requireBuilt(): void {
  for (const file of [CLI, DASHBOARD]) if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run npm run build first (npm test does).`);
}

export function launchChromium(options: { webgpu?: boolean } = {}): Promise<Browser> {
  // WebGPU runs on Chromium's own adapter (SwiftShader where there is no GPU), so it keeps the GPU process.
  const gpu = options.webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'];
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...gpu, '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

export interface HeadlessAgent {
  child: ChildProcessWithoutNullStreams;
  /** The dashboard URL the agent printed, with its token in the fragment. */
  url: string;
  port: number;
  token: string;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts the agent with `env` (OFFSHIFT_HOME and the rest are the caller's) and waits for its dashboard URL. */
export function startHeadlessAgent(env: NodeJS.ProcessEnv, options: { port?: number; timeoutMs?: number } = {}): Promise<HeadlessAgent> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, [CLI, 'agent', '--port', String(options.port ?? 0)], { cwd: ROOT, env: { ...env, OFFSHIFT_PORT: undefined } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = () => `stdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr.slice(-2000)}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The agent printed no dashboard URL within ${timeoutMs / 1000} s.\n${output()}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`The agent exited (${code ?? signal}) before printing its URL.\n${output()}`));
    };
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const url = new URL(match[1]!);
      resolve({ child, url: match[1]!, port: Number(url.port), token: url.hash.replace('#token=', ''), stderr: () => stderr, stop: () => stopHeadlessAgent(child) });
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function stopHeadlessAgent(child: ChildProcessWithoutNullStreams | null | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
