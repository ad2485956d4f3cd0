/**
 * Live NVIDIA telemetry from ONE long-running
 * `nvidia-smi --query-gpu=… --format=csv,noheader,nounits -lms N` process: nvidia-smi keeps the
 * driver handle open and prints a line per GPU every N ms, far cheaper than a process per
 * sample (test/bench/telemetry.ts measures it). When the process dies it is restarted with
 * exponential backoff; the status says what is happening in words.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { TelemetrySample, TelemetryStatus } from './schema.js';
import { parseTelemetryLine, telemetryArgs } from './telemetry-csv.js';

export interface TelemetrySource {
  start(): void;
  stop(): Promise<void>;
  readonly status: TelemetryStatus;
}

export interface NvidiaTelemetryOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  intervalMs: number;
  onSamples(samples: TelemetrySample[]): void;
  onStatus(status: TelemetryStatus): void;
  backoff?: BackoffOptions;
  /** A run that lasted this long resets the backoff (default 30 s). */
  healthyAfterMs?: number;
  /** No sample for this long from a live process: it is hung, and restarted (default 10 s, at least 5 intervals). */
  stallMs?: number;
  command?: string;
}

/** After this many failed starts in a row without a single sample, the status is 'unavailable'. */
const FAILURES_BEFORE_UNAVAILABLE = 4;

export class NvidiaTelemetryReader implements TelemetrySource {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private stopped = true;
  private attempt = 0;
  private current: TelemetryStatus = { state: 'stopped', reason: 'Telemetry has not started.' };
  private readonly backoff: BackoffOptions;
  private readonly stallMs: number;
  /** Restarts so far (for tests and the bench). */
  restarts = 0;
  /** Readers killed by the stall watchdog so far. */
  stalls = 0;

  constructor(private readonly options: NvidiaTelemetryOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.stallMs = options.stallMs ?? Math.max(10_000, 5 * options.intervalMs);
  }

  get status(): TelemetryStatus {
    return this.current;
  }

  /** The running nvidia-smi's pid (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawnOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.disarmWatchdog();
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    this.setStatus({ state: 'stopped', reason: 'Telemetry is stopped.' });
  }

  private setStatus(status: TelemetryStatus): void {
    if (status.state === this.current.state && status.reason === this.current.reason) return;
    this.current = status;
    this.options.log.info('gpu telemetry status', { state: status.state, reason: status.reason });
    this.options.onStatus(status);
  }

  private spawnOnce(): void {
    const command = this.options.command ?? 'nvidia-smi';
    const startedAt = Date.now();
    let sawSample = false;
    let lastOther = '';
    let stderr = '';
    let partial = '';
    let child: ChildProcess;
    try {
      child = spawn(command, telemetryArgs(this.options.intervalMs), { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (error) {
      this.scheduleRestart(`could not start ${command}: ${(error as Error).message}`, false, 0);
      return;
    }
    this.child = child;
    let stalled = false;
    this.armWatchdog(() => {
      stalled = true;
      this.stalls += 1;
      this.options.log.warn('gpu telemetry reader stalled', { pid: child.pid, stallMs: this.stallMs });
      child.kill('SIGKILL');
    });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const t = Date.now();
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      const samples: TelemetrySample[] = [];
      for (const line of lines) {
        const sample = parseTelemetryLine(line, t);
        if (sample) samples.push(sample);
        else if (line.trim()) lastOther = line.trim().slice(0, 300);
      }
      if (samples.length === 0) return;
      this.armWatchdog(); // a sample: alive
      if (!sawSample) {
        sawSample = true;
        this.setStatus({ state: 'running', reason: `Reading nvidia-smi every ${this.options.intervalMs} ms.` });
      }
      this.options.onSamples(samples);
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    let settled = false;
    const onEnd = (why: string) => {
      if (settled) return;
      settled = true;
      if (this.child === child) {
        this.child = null;
        this.disarmWatchdog();
      }
      if (this.stopped) return;
      if (stalled) why = `nvidia-smi stopped answering (no reading for ${Math.round(this.stallMs / 1000)} s) and was killed`;
      const said = stalled ? '' : stderr.trim().split(/\r?\n/).pop() || lastOther;
      this.scheduleRestart(said ? `${why}: ${said}` : why, sawSample, Date.now() - startedAt);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      onEnd(error.code === 'ENOENT' ? `${command} was not found on PATH` : `${command} could not run (${error.message})`);
    });
    child.on('exit', (code, signal) => {
      onEnd(signal ? `nvidia-smi was stopped by ${signal}` : `nvidia-smi exited with code ${code}`);
    });
  }

  /** (Re)starts the stall countdown; with a callback, sets what happens when it runs out. */
  private onStall: (() => void) | null = null;
  private armWatchdog(onStall?: () => void): void {
    if (onStall) this.onStall = onStall;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      this.onStall?.();
    }, this.stallMs);
    this.watchdog.unref?.();
  }

  private disarmWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.onStall = null;
  }

  private scheduleRestart(why: string, sawSample: boolean, ranMs: number): void {
    if (ranMs >= (this.options.healthyAfterMs ?? 30_000)) this.attempt = 0;
    this.attempt += 1;
    this.restarts += 1;
    const delay = backoffDelay(this.attempt, this.backoff);
    const seconds = delay >= 1000 ? `${Math.round(delay / 100) / 10} s` : `${delay} ms`;
    if (!sawSample && this.attempt >= FAILURES_BEFORE_UNAVAILABLE) {
      this.setStatus({
        state: 'unavailable',
        reason: `Live GPU telemetry is unavailable: ${why}. Offshift retries every ${seconds}; run \`nvidia-smi\` in a terminal to see why it fails.`,
      });
    } else {
      this.setStatus({ state: 'restarting', reason: `Telemetry reader stopped (${why}); restarting in ${seconds} (attempt ${this.attempt}).` });
    }
    this.options.log.warn('gpu telemetry reader stopped', { why, attempt: this.attempt, delayMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.spawnOnce();
    }, delay);
  }
}
