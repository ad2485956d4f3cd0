/**
 * Finding and running offshift-bench: one GPU a run (chosen by UUID through
 * CUDA_VISIBLE_DEVICES, so CUDA's device order never matters), time-boxed: a hung GPU or
 * program is stopped and reported, never waited on.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_PROGRAM_OUTPUT_BYTES } from './parse.js';

export const PROGRAM_NAME = process.platform === 'win32' ? 'offshift-bench.exe' : 'offshift-bench';
/** Per GPU: a quick run takes at most 15 s and a full one 60 s; the box leaves room for start-up. */
export const QUICK_TIMEOUT_MS = 45_000;
export const FULL_TIMEOUT_MS = 120_000;

/**
 * OFFSHIFT_BENCH_PROGRAM, else the build output (dist/bench/) found from this module's folder
 * (runtime/bench in a checkout, dist/ or dist/chunks/ when bundled), else the packaged app's
 * resources folder.
 */
export function findBenchProgram(env: NodeJS.ProcessEnv, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  if (env.OFFSHIFT_BENCH_PROGRAM !== undefined) return env.OFFSHIFT_BENCH_PROGRAM && fs.existsSync(env.OFFSHIFT_BENCH_PROGRAM) ? env.OFFSHIFT_BENCH_PROGRAM : null;
  const candidates: string[] = [];
  let dir = from;
  for (let i = 0; i < 4; i++) {
    candidates.push(path.join(dir, 'dist', 'bench', PROGRAM_NAME), path.join(dir, 'bench', PROGRAM_NAME));
    dir = path.dirname(dir);
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) candidates.push(path.join(resources, 'bench', PROGRAM_NAME));
  // Packaged: a program inside app.asar cannot be run; electron-builder's asarUnpack puts it in app.asar.unpacked.
  const unpacked = candidates.flatMap((c) => (c.includes(`app.asar${path.sep}`) ? [c.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`)] : []));
  return [...unpacked, ...candidates.filter((c) => !c.includes(`app.asar${path.sep}`))].find((c) => fs.existsSync(c) && fs.statSync(c).isFile()) ?? null;
}

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Could not start (missing, not executable). */
  startError: string | null;
  pid: number | null;
}

export function runBenchProgram(program: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number; onStart?: (pid: number) => void }): Promise<ProgramRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    // Its own process group (POSIX), so a time-out stops whatever it started too.
    const child = spawn(program, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: process.platform !== 'win32' });
    const finish = (run: Omit<ProgramRun, 'stdout' | 'stderr' | 'timedOut' | 'pid'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...run, stdout, stderr, timedOut, pid: child.pid ?? null });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length <= MAX_PROGRAM_OUTPUT_BYTES) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on('spawn', () => child.pid !== undefined && options.onStart?.(child.pid));
    child.on('error', (error) => finish({ code: null, startError: error.message }));
    child.on('close', (code) => finish({ code, startError: null }));
    // After a time-out, do not wait for pipes a stray grandchild may still hold open.
    child.on('exit', (code) => {
      if (timedOut) {
        child.stdout.destroy();
        child.stderr.destroy();
        finish({ code, startError: null });
      }
    });
  });
}
