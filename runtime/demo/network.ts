/**
 * The demo network on this computer (`offshift demo up|down|status`; the agent starts it on a
 * fresh install unless the owner opted out): the local chain (anvil, `offshift devnet`), and one
 * detached process (`offshift demo serve`) running the reference market and a demo buyer that
 * submits a steady trickle of demo render jobs, paying test tokens from its escrow deposit.
 * Both are found again through demo/demo.json. They live as long as the agent that started (or
 * adopted) them, and no longer (lifetime.ts): nothing of the demo keeps running once Offshift
 * is stopped, however it stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { endProcess, stopDemoChain } from './chain-processes.js';
import { devnetDown, devnetUp, isAlive, readDevnet } from './devnet.js';
import { DEMO_DIR } from './paths.js';
import { readDemoState, writeDemoState, type DemoState } from './state.js';

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

/** The detached market+buyer process in demo.json, if it runs (never the agent that hosts an in-process one). */
function detachedServe(state: DemoState | null): number | null {
  return state && !state.inProcess && isAlive(state.pid) ? state.pid : null;
}

/**
 * Starts the chain and the market+buyer process if they are not running; returns the market URL.
 * `owner` (the agent's pid) ties the network's life to that agent: a network already running is
 * adopted, one whose agent is gone (it is stopping itself) is replaced.
 */
export async function demoUp(home: string, options: { env?: NodeJS.ProcessEnv; log?: Logger; timeoutMs?: number; owner?: number } = {}): Promise<{ url: string; started: boolean }> {
  const env = options.env ?? process.env;
  const current = readDemoState(home);
  if (current?.inProcess && isAlive(current.pid) && current.url && (await marketAnswers(current.url))) {
    await devnetUp(home, { env });
    return { url: current.url, started: false };
  }
  const serving = detachedServe(current);
  if (serving !== null) {
    const ownerGone = current!.ownerPid !== null && current!.ownerPid !== options.owner && !isAlive(current!.ownerPid);
    if (!ownerGone && current!.url && (await marketAnswers(current!.url))) {
      await devnetUp(home, { env });
      const latest = readDemoState(home);
      if (options.owner !== undefined && latest && latest.ownerPid !== options.owner) writeDemoState(home, { ...latest, ownerPid: options.owner });
      return { url: current!.url, started: false };
    }
    // Left by its agent (it stops itself, with the chain) or not answering: replaced.
    await endProcess(serving, 5000);
  }
  // The process starts the chain itself: from the first moment, the chain lives no longer than it.
  const dir = path.join(home, DEMO_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeDemoState(home, { ...emptyState(current), ownerPid: options.owner ?? null });
  const log = fs.openSync(path.join(dir, 'demo.log'), 'a', 0o600);
  const child = spawnCli(['demo', 'serve'], home, env, log);
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
  await endProcess(child.pid ?? null, 2000);
  throw new AppError('demo-failed', `The demo market did not start${tail ? `: ${tail.slice(0, 500)}` : ''}. See ${path.join(dir, 'demo.log')}.`);
}

function emptyState(previous: DemoState | null): DemoState {
  return {
    pid: null,
    ownerPid: null,
    guardPid: null,
    url: null,
    buyer: null,
    imageId: null,
    startedAt: null,
    jobsSubmitted: previous?.jobsSubmitted ?? 0,
    problem: null,
    lastProblem: previous?.lastProblem ?? null,
    inProcess: false,
    gpuJobsSubmitted: previous?.gpuJobsSubmitted ?? 0,
    jobs: null,
  };
}

/** `offshift <args>` as a detached process of its own (the demo network outlives no one: lifetime.ts). */
function spawnCli(args: string[], home: string, env: NodeJS.ProcessEnv, log: number | 'ignore'): ChildProcess {
  return spawn(process.execPath, [cliEntry(env), ...args], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...env, OFFSHIFT_HOME: home, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
  });
}

/**
 * The agent stops the demo network it owns: the detached process (which stops the chain as it
 * ends) gets SIGTERM, and SIGKILL with the chain after `waitMs`. A network the agent does not
 * own is left alone (its own lifetime rule ends it).
 */
export async function stopOwnedDemo(home: string, owner: number, waitMs = 3000): Promise<boolean> {
  const state = readDemoState(home);
  if (!state || state.ownerPid !== owner) return false;
  const serving = detachedServe(state);
  if (serving !== null) await endProcess(serving, waitMs);
  await stopDemoChain(home, undefined, { waitMs: 1000 });
  return true;
}

/**
 * The chain, and the market and the demo buyer inside this process until `signal` aborts. A guard
 * process (`demo guard`), started first, stops the chain if this process ends without doing so
 * (SIGKILL). It needs a Node to run, so the packaged desktop app (no second Node) has none: there
 * the app stops the chain as it quits, and the next start uses it again.
 */
export async function demoUpInProcess(home: string, options: { env: NodeJS.ProcessEnv; log: Logger; signal: AbortSignal; timeoutMs?: number }): Promise<{ url: string; done: Promise<void>; guardPid: number | null }> {
  const previous = readDemoState(home);
  // This agent owns the network from now on (an older guard sees it and leaves the chain alone).
  writeDemoState(home, { ...emptyState(previous), ownerPid: process.pid, inProcess: true });
  const stale = detachedServe(previous);
  if (stale !== null) await endProcess(stale, 5000);
  let guardPid: number | null = null;
  if (!process.versions.electron) {
    try {
      const logFd = fs.openSync(path.join(home, DEMO_DIR, 'demo.log'), 'a', 0o600);
      const guard = spawnCli(['demo', 'guard', '--owner', String(process.pid)], home, options.env, logFd);
      fs.closeSync(logFd);
      guard.on('error', (error) => options.log.warn('the demo network\'s guard did not start', { error: error.message }));
      guard.unref();
      guardPid = guard.pid ?? null;
    } catch (error) {
      options.log.warn('the demo network\'s guard did not start', { error: (error as Error).message });
    }
  }
  writeDemoState(home, { ...emptyState(previous), ownerPid: process.pid, guardPid, inProcess: true });
  const { serveDemo } = await import('./serve.js');
  let failed: Error | null = null;
  const done = serveDemo(home, options.env, options.log, options.signal, { inProcess: true }).catch((error: unknown) => {
    failed = error as Error;
    options.log.error('the demo network stopped', { error: (error as Error).message });
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    const state = readDemoState(home);
    if (state?.url && state.pid === process.pid) return { url: state.url, done, guardPid };
    if (failed) throw new AppError('demo-failed', `The demo market did not start: ${(failed as Error).message}`);
    if (options.signal.aborted) throw new AppError('demo-failed', 'The demo network was stopped while it started.');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new AppError('demo-failed', 'The demo market did not start within 30 s.');
}

export async function demoDown(home: string): Promise<{ market: boolean; chain: boolean }> {
  const state = readDemoState(home);
  if (state?.inProcess && isAlive(state.pid)) {
    throw new AppError('demo-in-app', 'The demo market runs inside the Offshift app: it stops with the app, or when you move to a real market (`offshift market config --url URL`).');
  }
  const chainWasRunning = isAlive(readDevnet(home)?.pid ?? null);
  // The market+buyer process stops the chain as it ends; devnetDown stops it if it is still there.
  const market = await endProcess(detachedServe(state), 5000);
  if (state) writeDemoState(home, { ...state, pid: null, url: null, ownerPid: null });
  await devnetDown(home);
  return { market, chain: chainWasRunning };
}

export function demoStatus(home: string) {
  const state = readDemoState(home);
  const chain = readDevnet(home);
  const chainRunning = chain !== null && isAlive(chain.pid);
  const marketRunning = state !== null && isAlive(state.pid) && state.url !== null;
  const running = chainRunning && marketRunning;
  const problem = marketRunning ? (state!.problem ?? null) : null;
  const last = state?.lastProblem ?? null;
  const buyerLine = !running
    ? ''
    : problem
      ? ` The demo buyer is not submitting now: ${problem} It tries again by itself.`
      : last
        ? ` The demo buyer's last problem (${last.at}, since resolved): ${last.message}`
        : '';
  return {
    running,
    chain: { rpcUrl: chainRunning ? chain!.rpcUrl : null, running: chainRunning },
    market: { url: marketRunning ? state!.url : null, running: marketRunning },
    buyer: {
      address: state?.buyer ?? null,
      running: marketRunning,
      jobsSubmitted: state?.jobsSubmitted ?? 0,
      gpuJobsSubmitted: state?.gpuJobsSubmitted ?? 0,
      problem,
      lastProblem: last,
      /** Whether it sends GPU jobs too, and why not (null: not known yet, or not running). */
      jobs: marketRunning ? (state!.jobs ?? null) : null,
    },
    owner: state?.inProcess ? 'the agent (in its own process)' : state?.ownerPid ? `the agent (pid ${state.ownerPid})` : null,
    detail: running
      ? `The demo network runs on this computer: chain ${chain!.rpcUrl}, market ${state!.url}; the demo buyer has submitted ${state!.jobsSubmitted} job${state!.jobsSubmitted === 1 ? '' : 's'}${state!.gpuJobsSubmitted > 0 ? ` (${state!.gpuJobsSubmitted} on the GPU)` : ''}. Test tokens only.${state!.jobs ? ` ${state!.jobs.reason}` : ''}${buyerLine}${state!.ownerPid !== null || state!.inProcess ? ' It stops with the agent that uses it.' : ' No agent started it: it stops by itself once no agent has been connected for a few minutes.'}`
      : state?.problem
        ? `The demo network is not running: ${state.problem}`
        : 'The demo network is not running. Start it with `offshift demo up` (the agent starts it by itself unless the marketplace is set to a real market).',
  };
}
