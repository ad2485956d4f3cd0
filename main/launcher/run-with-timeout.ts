import { spawn } from 'node:child_process';

export type RunOutcome =
  | { outcome: 'ok' }
  | { outcome: 'failed'; code: number | null; signal: NodeJS.Signals | null; output: string }
  | { outcome: 'timeout'; timeoutMs: number }
  | { outcome: 'spawn-error'; message: string };

const KEEP_OUTPUT = 4000;

/**
 * Runs a command with its output captured (not shown: the caller prints one clear line) and a
 * hard time limit: on timeout the process is killed and the promise settles at once, so the
 * caller never hangs on a stuck download.
 */
export function runWithTimeout(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<RunOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let output = '';
    const settle = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-KEEP_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      child.kill('SIGKILL');
      child.unref();
      settle({ outcome: 'timeout', timeoutMs: options.timeoutMs });
    }, options.timeoutMs);
    child.once('error', (error) => settle({ outcome: 'spawn-error', message: error.message }));
    child.once('close', (code, signal) => settle(code === 0 ? { outcome: 'ok' } : { outcome: 'failed', code, signal, output }));
  });
}
