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
import { z } from 'zod';
import { AppError } from '../errors.js';
import { devnetDown, devnetUp, isAlive, readDevnet } from '../chain/devnet.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { demoFolderId } from './lifetime.js';
import { DEMO_DIR } from './paths.js';


export const demoStateSchema = z.object({
  pid: z.number().int().nullable(),
  /** The agent the network belongs to: it stops when that agent is gone. Null when started by hand. */
  ownerPid: z.number().int().nullable().default(null),
  /** Inside the agent (the desktop app): the process that stops the chain if the agent is killed. */
  guardPid: z.number().int().nullable().default(null),
  url: z.string().nullable(),
  buyer: z.string().nullable(),
  imageId: z.string().nullable(),
  startedAt: z.number().nullable(),
  jobsSubmitted: z.number().int().default(0),
  /** Why the buyer is not submitting now, if it is not (for `demo status`). */
  problem: z.string().nullable().default(null),
  /** The buyer's last problem and when, kept after it resumed (for `demo status`). */
  lastProblem: z.object({ message: z.string(), at: z.string() }).nullable().default(null),
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
 * The running network's own update of demo.json: never throws (a full disk is logged and the
 * next save catches up), writes only into the demo folder it started in (`folder`: never into
 * one deleted, nor one made again since), and keeps the owner written there (an agent may have
 * adopted the network since).
 */
export function saveDemoState(home: string, state: DemoState, log: Logger, folder: string | null): void {
  if (folder === null || demoFolderId(home) !== folder) return;
  try {
    const onDisk = readDemoState(home);
    if (onDisk && onDisk.ownerPid !== state.ownerPid) state.ownerPid = onDisk.ownerPid;
    if (onDisk && onDisk.guardPid !== state.guardPid) state.guardPid = onDisk.guardPid;
    writeDemoState(home, state);
  } catch (error) {
    log.warn('could not save the demo state (demo/demo.json)', { error: (error as Error).message });
  }
}

/**
 * The pids of this data folder's local chain: on Linux every anvil whose command line names this
 * folder's chain state (found even before devnet.json names it); elsewhere the pid in devnet.json.
 */
export function demoChainPids(home: string): number[] {
  if (process.platform !== 'linux') {
    try {
      const pid = readDevnet(home)?.pid ?? null;
      return isAlive(pid) ? [pid!] : [];
    } catch {
      return [];
    }
  }
  const stateFile = path.join(home, 'devnet', 'anvil-state.json');
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (isAnvil(argv) && argv.includes(stateFile)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

const isAnvil = (argv: string[]) => path.basename(argv[0] ?? '').startsWith('anvil');

/** Still the chain it was (Linux checks the command line, so a reused pid is never killed). */
function stillAnvil(pid: number): boolean {
  if (process.platform !== 'linux') return isAlive(pid);
  try {
    return isAnvil(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it is still there after `waitMs`. */
export async function endProcess(pid: number | null, waitMs: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid!, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + waitMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    try {
      process.kill(pid!, 'SIGKILL');
    } catch {}
  }
  return true;
}

/**
 * Stops the demo's local chain: every process of this data folder's chain (demoChainPids), or,
 * for a folder deleted or made again since, only the chain pids known from before (`known`).
 */
export async function stopDemoChain(home: string, log?: Logger, options: { known?: number[]; waitMs?: number } = {}): Promise<boolean> {
  const pids = options.known ? options.known.filter(stillAnvil) : demoChainPids(home);
  if (pids.length === 0) return false;
  log?.info('stopping the demo network\'s local chain', { pids });
  await Promise.all(pids.map((pid) => endProcess(pid, options.waitMs ?? 5000)));
  return true;
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
  return { pid: null, ownerPid: null, guardPid: null, url: null, buyer: null, imageId: null, startedAt: null, jobsSubmitted: previous?.jobsSubmitted ?? 0, problem: null, lastProblem: previous?.lastProblem ?? null, inProcess: false };
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
    buyer: { address: state?.buyer ?? null, running: marketRunning, jobsSubmitted: state?.jobsSubmitted ?? 0, problem, lastProblem: last },
    owner: state?.inProcess ? 'the agent (in its own process)' : state?.ownerPid ? `the agent (pid ${state.ownerPid})` : null,
    detail: running
      ? `The demo network runs on this computer: chain ${chain!.rpcUrl}, market ${state!.url}; the demo buyer has submitted ${state!.jobsSubmitted} job${state!.jobsSubmitted === 1 ? '' : 's'}. Test tokens only.${buyerLine}${state!.ownerPid !== null || state!.inProcess ? ' It stops with the agent that uses it.' : ' No agent started it: it stops by itself once no agent has been connected for a few minutes.'}`
      : state?.problem
        ? `The demo network is not running: ${state.problem}`
        : 'The demo network is not running. Start it with `offshift demo up` (the agent starts it by itself unless the marketplace is set to a real market).',
  };
}
