/**
 * The demo network on this computer (`offshift demo up|down|status`; the agent starts it on a
 * fresh install unless the owner opted out): the local chain (anvil, `offshift devnet`), and one
 * detached process (`offshift demo serve`) running the reference market and a demo buyer that
 * submits a steady trickle of demo render jobs, paying test tokens from its escrow deposit.
 * Both outlive the agent (like the chain) and are found again through demo/demo.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError } from '../api/errors.js';
import { devnetDown, devnetUp, isAlive, readDevnet } from '../chain/devnet.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { DEMO_DIR } from './paths.js';


export const demoStateSchema = z.object({
  pid: z.number().int().nullable(),
  url: z.string().nullable(),
  buyer: z.string().nullable(),
  imageId: z.string().nullable(),
  startedAt: z.number().nullable(),
  jobsSubmitted: z.number().int().default(0),
  /** Why the buyer is not submitting, if it is not (for `demo status`). */
  problem: z.string().nullable().default(null),
  /** Runs inside the agent's own process (the desktop app): stops with it, never killed by `demo down`. */
  inProcess: z.boolean().default(false),
});
export type DemoState = z.infer<typeof demoStateSchema>;

export function demoStateFile(home: string): string {
  return path.join(home, DEMO_DIR, 'demo.json');
}

export function readDemoState(home: string): DemoState | null {
  try {
    return demoStateSchema.parse(JSON.parse(fs.readFileSync(demoStateFile(home), 'utf8')));
  } catch {
    return null;
  }
}

export function writeDemoState(home: string, state: DemoState): void {
  fs.mkdirSync(path.join(home, DEMO_DIR), { recursive: true, mode: 0o700 });
  writeFileAtomic(demoStateFile(home), JSON.stringify(state, null, 2) + '\n', 0o600);
}

/**
 * The built CLI (dist/runtime/cli.js), found from wherever this code runs: a bundle chunk under
 * dist/, or the sources under runtime/ (tests, after `npm run build`). OFFSHIFT_CLI overrides.
 */
export function cliEntry(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OFFSHIFT_CLI) return env.OFFSHIFT_CLI;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [path.join(dir, 'runtime', 'cli.js'), path.join(dir, 'dist', 'runtime', 'cli.js')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new AppError('demo-unavailable', 'The built command line (dist/runtime/cli.js) was not found: run `npm run build` first.');
}

async function marketAnswers(url: string): Promise<boolean> {
  try {
    const http = url.replace(/^ws/, 'http');
    const response = await fetch(new URL('/v1/providers', http), { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts the chain and the market+buyer process if they are not running; returns the market URL. */
export async function demoUp(home: string, options: { env?: NodeJS.ProcessEnv; log?: Logger; timeoutMs?: number } = {}): Promise<{ url: string; started: boolean }> {
  const env = options.env ?? process.env;
  await devnetUp(home, { env });
  const current = readDemoState(home);
  if (current && isAlive(current.pid) && current.url && (await marketAnswers(current.url))) return { url: current.url, started: false };
  if (current && isAlive(current.pid)) {
    try {
      process.kill(current.pid!, 'SIGTERM');
    } catch {}
  }
  const dir = path.join(home, DEMO_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeDemoState(home, { pid: null, url: null, buyer: null, imageId: null, startedAt: null, jobsSubmitted: 0, problem: null, inProcess: false });
  const log = fs.openSync(path.join(dir, 'demo.log'), 'a', 0o600);
  const child = spawn(process.execPath, [cliEntry(env), 'demo', 'serve'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...env, OFFSHIFT_HOME: home, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
  });
  fs.closeSync(log);
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    const state = readDemoState(home);
    if (state?.url && state.pid === child.pid) return { url: state.url, started: true };
    if (child.exitCode !== null || !isAlive(child.pid ?? null)) break;
  }
  const tail = (() => {
    try {
      return fs.readFileSync(path.join(dir, 'demo.log'), 'utf8').trim().split('\n').slice(-3).join(' ');
    } catch {
      return '';
    }
  })();
  try {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  } catch {}
  throw new AppError('demo-failed', `The demo market did not start${tail ? `: ${tail.slice(0, 500)}` : ''}. See ${path.join(dir, 'demo.log')}.`);
}

/** The chain as usual, and the market and the demo buyer inside this process until `signal` aborts. */
export async function demoUpInProcess(home: string, options: { env: NodeJS.ProcessEnv; log: Logger; signal: AbortSignal; timeoutMs?: number }): Promise<{ url: string; done: Promise<void> }> {
  await devnetUp(home, { env: options.env });
  writeDemoState(home, { pid: null, url: null, buyer: null, imageId: null, startedAt: null, jobsSubmitted: readDemoState(home)?.jobsSubmitted ?? 0, problem: null, inProcess: true });
  const { serveDemo } = await import('./serve.js');
  let failed: Error | null = null;
  const done = serveDemo(home, options.env, options.log, options.signal, { inProcess: true }).catch((error: unknown) => {
    failed = error as Error;
    options.log.error('the demo network stopped', { error: (error as Error).message });
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    const state = readDemoState(home);
    if (state?.url && state.pid === process.pid) return { url: state.url, done };
    if (failed) throw new AppError('demo-failed', `The demo market did not start: ${(failed as Error).message}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new AppError('demo-failed', 'The demo market did not start within 30 s.');
}

export async function demoDown(home: string): Promise<{ market: boolean; chain: boolean }> {
  const state = readDemoState(home);
  let market = false;
  if (state?.inProcess && isAlive(state.pid)) {
    throw new AppError('demo-in-app', 'The demo market runs inside the Offshift app: it stops with the app, or when you move to a real market (`offshift market config --url URL`).');
  }
  if (state && isAlive(state.pid)) {
    process.kill(state.pid!, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(state.pid)) process.kill(state.pid!, 'SIGKILL');
    market = true;
  }
  if (state) writeDemoState(home, { ...state, pid: null, url: null });
  const chain = await devnetDown(home);
  return { market, chain };
}

export function demoStatus(home: string) {
  const state = readDemoState(home);
  const chain = readDevnet(home);
  const chainRunning = chain !== null && isAlive(chain.pid);
  const marketRunning = state !== null && isAlive(state.pid) && state.url !== null;
  const running = chainRunning && marketRunning;
  return {
    running,
    chain: { rpcUrl: chainRunning ? chain!.rpcUrl : null, running: chainRunning },
    market: { url: marketRunning ? state!.url : null, running: marketRunning },
    buyer: { address: state?.buyer ?? null, running: marketRunning, jobsSubmitted: state?.jobsSubmitted ?? 0 },
    detail: running
      ? `The demo network runs on this computer: chain ${chain!.rpcUrl}, market ${state!.url}; the demo buyer has submitted ${state!.jobsSubmitted} job${state!.jobsSubmitted === 1 ? '' : 's'}. Test tokens only.`
      : state?.problem
        ? `The demo network is not running: ${state.problem}`
        : 'The demo network is not running. Start it with `offshift demo up` (the agent starts it by itself unless the marketplace is set to a real market).',
  };
}
