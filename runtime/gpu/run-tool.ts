import { execFile } from 'node:child_process';

export interface ToolRun {
  /** Exit code; null when the tool could not start or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the run failed to start or finish (not found, timed out), or null. */
  failure: string | null;
}

/** Runs a GPU tool once, with the given environment, a time limit and a generous output buffer. */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr, failure: null });
        const err = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (err.code === 'ENOENT') return resolve({ code: null, stdout, stderr, failure: `${command} was not found on PATH` });
        if (err.killed) return resolve({ code: null, stdout, stderr, failure: `${command} did not answer within ${Math.round(timeoutMs / 1000)} s and was stopped` });
        resolve({ code: typeof err.code === 'number' ? err.code : null, stdout, stderr, failure: null });
      },
    );
  });
}

/** The first meaningful line a failed tool printed (stderr first, then stdout), for a message. */
export function toolMessage(run: Pick<ToolRun, 'stdout' | 'stderr'>): string {
  const line = [run.stderr, run.stdout]
    .flatMap((t) => t.split(/\r?\n/))
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ? line.slice(0, 300) : 'it printed nothing';
}
