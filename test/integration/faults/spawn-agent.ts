/**
 * The real headless agent (`offshift agent --port 0`, its crash handler included) in a child
 * process, from the sources (tsx), for the fault tests that damage its files: it either starts
 * (prints its dashboard URL) or exits, and the test reads which, with what it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'runtime', 'cli.ts');

export interface SpawnedAgent {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** 'started' once the dashboard URL is printed, 'exited' if the process ended first; rejects after `timeoutMs`. */
  outcome: Promise<'started' | 'exited'>;
  /** The port it listens on (once started). */
  port: () => number;
  stop: () => Promise<void>;
}

export function spawnAgent(home: string, timeoutMs = 60_000): SpawnedAgent {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'agent', '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: path.dirname(home), OFFSHIFT_HOME: home, OFFSHIFT_MARKET: 'off', OFFSHIFT_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const outcome = new Promise<'started' | 'exited'>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent neither started nor exited within ${timeoutMs / 1000} s:\n${out.slice(-3000)}`)), timeoutMs);
    const poll = setInterval(() => {
      if (/Dashboard: http/.test(out)) done('started');
    }, 50);
    const done = (what: 'started' | 'exited') => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(what);
    };
    void exited.then(() => done(/Dashboard: http/.test(out) ? 'started' : 'exited'));
  });
  return {
    child,
    output: () => out,
    exited,
    outcome,
    port: () => Number(/Dashboard: http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}
