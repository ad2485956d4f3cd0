/**
 * Lifetimes (issue 16), on real parts: the built CLI's agent, the demo network (anvil, the
 * reference market, the demo buyer) and Docker. Stopping the agent (SIGINT, SIGTERM) ends it
 * within 5 s in every mode (demo detached, demo in the agent's process, demo off), with a job
 * running or not; and nothing of the demo runs 10 s after the agent is gone, however it ended
 * (SIGINT, SIGTERM, SIGKILL, its data folder deleted). The process table is checked by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findDemoBinary } from '../../../runtime/demo/image.js';
import { removeAgentLeftovers } from '../../helpers/leftovers.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { dockerAvailable, sandboxTestImage, canBuildTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { alive, killAllOf, processesOf } from './processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');
const skip = !fs.existsSync(CLI)
  ? 'the CLI is not built (npm run build)'
  : !findDemoBinary()
    ? 'the demo renderer is not built (npm run build needs a C compiler)'
    : !dockerAvailable()
      ? 'the Docker engine is not reachable'
      : process.platform !== 'linux'
        ? 'the process table is read from /proc'
        : null;
if (skip) console.warn(`[skipped] the agent's and the demo network's lifetimes: ${skip}`);

type Mode = 'detached' | 'in-process' | 'off';
const STOP_WITHIN_MS = 5000;
const DEMO_GONE_WITHIN_MS = 10_000;

interface Running {
  home: string;
  agent: ChildProcess;
  log: () => string;
  cleanup(): void;
}

const started: Running[] = [];
afterEach(() => {
  // Everything a test started goes, also when it failed.
  for (const r of started.splice(0)) r.cleanup();
});

function startAgent(mode: Mode, extraEnv: NodeJS.ProcessEnv = {}): Running {
  const temp = makeTempHome('offshift-lifetime-');
  const env: NodeJS.ProcessEnv = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_DEMO_IN_PROCESS: mode === 'in-process' ? '1' : '0', ...extraEnv };
  if (mode === 'off') env.OFFSHIFT_MARKET = 'off';
  else delete env.OFFSHIFT_MARKET;
  const agent = spawn(process.execPath, [CLI, 'agent', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  agent.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  agent.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const running: Running = {
    home: temp.home,
    agent,
    log: () => log,
    cleanup() {
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
      killAllOf(temp.home);
      removeAgentLeftovers(temp.home);
      temp.cleanup();
    },
  };
  started.push(running);
  return running;
}

const tail = (r: Running) => `Agent log:\n${r.log().split('\n').slice(-25).join('\n')}\nStill running: ${JSON.stringify(processesOf(r.home))}`;

/** The demo's own processes, by pid: the chain, and the market+buyer process or the guard. */
function demoPids(home: string): { chain: number | null; serve: number | null; guard: number | null; url: string | null } {
  const read = (file: string) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(home, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const devnet = read('devnet.json');
  const demo = read('demo/demo.json');
  return {
    chain: typeof devnet.pid === 'number' ? devnet.pid : null,
    serve: demo.inProcess === false && typeof demo.pid === 'number' ? demo.pid : null,
    guard: typeof demo.guardPid === 'number' ? demo.guardPid : null,
    url: typeof demo.url === 'string' ? demo.url : null,
  };
}

/** Waits for the demo market; returns the pids of the demo's processes (every one of the home's but the agent). */
async function demoUp(r: Running): Promise<number[]> {
  await until(
    'the demo network runs',
    () => {
      const p = demoPids(r.home);
      return p.url && p.chain && alive(p.chain);
    },
    90_000,
    { detail: () => tail(r) },
  );
  const p = demoPids(r.home);
  const pids = new Set([p.chain, p.serve, p.guard, ...processesOf(r.home).map((x) => x.pid)].filter((x): x is number => x !== null && x !== r.agent.pid));
  return [...pids];
}

async function jobRunning(r: Running): Promise<void> {
  await until('a job runs', () => /"msg":"job state","id":"[^"]+","state":"running"/.test(r.log()), 90_000, { detail: () => tail(r) });
}

/** Sends `signal` and measures how long the agent takes to exit. */
async function stopAgent(r: Running, signal: NodeJS.Signals): Promise<number> {
  const t0 = Date.now();
  const exited = new Promise<void>((resolve) => (r.agent.exitCode !== null ? resolve() : r.agent.once('exit', () => resolve())));
  r.agent.kill(signal);
  await Promise.race([exited, new Promise((res) => setTimeout(res, STOP_WITHIN_MS + 1000))]);
  const took = Date.now() - t0;
  console.log(`[lifetimes] ${expect.getState().currentTestName ?? ''}: the agent ended ${took} ms after ${signal}`);
  return took;
}

async function noDemoLeft(r: Running, pids: number[]): Promise<void> {
  await until(`no demo process left (pids ${pids.join(', ')})`, () => pids.every((p) => !alive(p)) && processesOf(r.home).every((p) => p.pid === r.agent.pid), DEMO_GONE_WITHIN_MS, { detail: () => tail(r) });
}

describe.skipIf(skip !== null)("the agent's and the demo network's lifetimes", () => {
  for (const mode of ['detached', 'in-process'] as const) {
    describe(`with the demo market and buyer ${mode === 'detached' ? 'in a detached process' : "in the agent's own process (the desktop app)"}`, () => {
      it('SIGTERM with a demo job running: the agent ends within 5 s, and the demo network with it', async () => {
        const r = startAgent(mode);
        const pids = await demoUp(r);
        await jobRunning(r);
        const took = await stopAgent(r, 'SIGTERM');
        expect(took, tail(r)).toBeLessThan(STOP_WITHIN_MS);
        expect(r.log()).not.toMatch(/did not stop within/); // ended by its own stop, not the backstop
        await noDemoLeft(r, pids);
        // A machine without a GPU that runs a demo job is working, never "error: no GPU".
        expect(r.log()).not.toMatch(/"msg":"agent state","state":"error","reason":"no-gpu"/);
      }, 150_000);

      it('SIGINT while the demo network is still starting, before any job: the agent ends within 5 s and leaves nothing', async () => {
        const r = startAgent(mode);
        await until('the agent starts', () => /Dashboard: /.test(r.log()), 60_000, { detail: () => tail(r) });
        const took = await stopAgent(r, 'SIGINT');
        expect(took, tail(r)).toBeLessThan(STOP_WITHIN_MS);
        await noDemoLeft(r, []);
      }, 120_000);

      it('SIGINT with the demo up and no job running: the agent ends within 5 s, and the demo network with it', async () => {
        // A long pause after each job: once the first has ended, none runs.
        const r = startAgent(mode, { OFFSHIFT_DEMO_PAUSE_SECONDS: '600' });
        const pids = await demoUp(r);
        await until('the first demo job ends', () => /"msg":"job state","id":"[^"]+","state":"(succeeded|failed)"/.test(r.log()), 90_000, { detail: () => tail(r) });
        const took = await stopAgent(r, 'SIGINT');
        expect(took, tail(r)).toBeLessThan(STOP_WITHIN_MS);
        await noDemoLeft(r, pids);
      }, 150_000);

      it('SIGKILL: no demo process is left 10 s later', async () => {
        const r = startAgent(mode);
        const pids = await demoUp(r);
        await jobRunning(r);
        r.agent.kill('SIGKILL');
        await noDemoLeft(r, pids);
      }, 150_000);

      it('its data folder deleted: no demo process is left 10 s later', async () => {
        const r = startAgent(mode);
        const pids = await demoUp(r);
        // As a person would: the processes may write into it meanwhile, so again until it is gone.
        await until('the data folder is gone', () => {
          try {
            fs.rmSync(r.home, { recursive: true, force: true });
          } catch {
            // written into meanwhile (ENOTEMPTY): again
          }
          return !fs.existsSync(r.home);
        }, 30_000, { intervalMs: 20 });
        await noDemoLeft(r, pids);
        // The agent stops too: nothing it would write there is kept; it says why.
        await until('the agent stops', () => r.agent.exitCode !== null, DEMO_GONE_WITHIN_MS, { detail: () => tail(r) });
        expect(r.agent.exitCode).toBe(1);
        expect(r.log()).toMatch(/was deleted while the agent ran/);
        // Nothing of the demo brings the deleted folder back.
        for (const part of ['demo/demo.json', 'demo/market.db', 'devnet', 'devnet.json']) expect(fs.existsSync(path.join(r.home, part)), `${part}: ${fs.existsSync(r.home) ? (fs.readdirSync(r.home, { recursive: true }) as string[]).join(' ') : ''}`).toBe(false);
      }, 150_000);
    });
  }

  describe('with the marketplace off', () => {
    it('SIGTERM with a job running, and SIGINT with none: the agent ends within 5 s', async (ctx) => {
      const why = canBuildTestImage();
      if (why) {
        console.warn(`[skipped] the marketplace-off stop with a job: ${why}`);
        ctx.skip();
      }
      const image = sandboxTestImage();
      for (const [signal, withJob] of [['SIGTERM', true], ['SIGINT', false]] as const) {
        const r = startAgent('off');
        await until('the agent starts', () => /Dashboard: /.test(r.log()), 60_000, { detail: () => tail(r) });
        let client: ChildProcess | null = null;
        if (withJob) {
          client = spawn(process.execPath, [CLI, 'job', 'run', '--image', image, '--', 'sleep', '60'], { env: { ...process.env, OFFSHIFT_HOME: r.home }, stdio: 'ignore' });
          await jobRunning(r);
        }
        const took = await stopAgent(r, signal);
        client?.kill('SIGKILL');
        expect(took, tail(r)).toBeLessThan(STOP_WITHIN_MS);
        expect(processesOf(r.home).filter((p) => p.pid !== client?.pid), tail(r)).toEqual([]);
      }
    }, 180_000);
  });

  it('`npm start` (the headless fallback), Ctrl-C with a demo job running: it ends within 5 s, and nothing of the demo is left', async () => {
    const temp = makeTempHome('offshift-lifetime-');
    const env: NodeJS.ProcessEnv = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_PORT: '0', OFFSHIFT_ELECTRON_DOWNLOAD: '0', OFFSHIFT_OPEN_BROWSER: '0', OFFSHIFT_DEMO_IN_PROCESS: '0' };
    delete env.OFFSHIFT_MARKET;
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    // Its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group.
    const launcher = spawn(process.execPath, [path.join(ROOT, 'dist', 'main', 'launcher.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let log = '';
    launcher.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    launcher.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const r: Running = {
      home: temp.home,
      agent: launcher,
      log: () => log,
      cleanup() {
        if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
        killAllOf(temp.home);
        removeAgentLeftovers(temp.home);
        temp.cleanup();
      },
    };
    started.push(r);
    const pids = await demoUp(r);
    // The demo job's state lines are the agent's, which the launcher passes on.
    await jobRunning(r);
    const exited = new Promise<void>((resolve) => launcher.once('exit', () => resolve()));
    const t0 = Date.now();
    process.kill(-launcher.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((res) => setTimeout(res, STOP_WITHIN_MS + 1000))]);
    expect(Date.now() - t0, tail(r)).toBeLessThan(STOP_WITHIN_MS);
    await until('nothing of Offshift is left', () => pids.every((p) => !alive(p)) && processesOf(temp.home).length === 0, DEMO_GONE_WITHIN_MS, { detail: () => tail(r) });
  }, 150_000);

  it('a demo network started by hand stops by itself once no agent has been connected for a while', async () => {
    const temp = makeTempHome('offshift-lifetime-');
    started.push({ home: temp.home, agent: { pid: -1 } as ChildProcess, log: () => '', cleanup: () => (killAllOf(temp.home), temp.cleanup()) });
    const env = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_DEMO_IDLE_SECONDS: '3' };
    execFileSync(process.execPath, [CLI, 'demo', 'up', '--json'], { env, stdio: 'ignore', timeout: 90_000 });
    const pids = demoPids(temp.home);
    expect(pids.chain && alive(pids.chain)).toBeTruthy();
    expect(pids.serve && alive(pids.serve)).toBeTruthy();
    await until('the unowned demo network stops itself', () => !alive(pids.chain!) && !alive(pids.serve!) && processesOf(temp.home).length === 0, 3000 + DEMO_GONE_WITHIN_MS, { detail: () => JSON.stringify(processesOf(temp.home)) });
    const status = JSON.parse(execFileSync(process.execPath, [CLI, 'demo', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as { running: boolean; detail: string };
    expect(status.running).toBe(false);
    expect(status.detail).toMatch(/no agent has been connected/);
  }, 120_000);
});
