/**
 * AMD telemetry: rocm-smi has no streaming mode, so it is polled with --json at the telemetry
 * interval (one short process per tick; see docs/gpu.md). Failures back off like the NVIDIA
 * reader's restarts.
 */
import type { Logger } from '../log.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { TelemetrySource } from './nvidia-telemetry.js';
import { parseRocmSmiText, rocmSamples } from './rocm-json.js';
import { runTool, toolMessage } from './run-tool.js';
import type { TelemetrySample, TelemetryStatus } from './schema.js';

export const ROCM_TELEMETRY_ARGS = ['--showuse', '--showmemuse', '--showtemp', '--showpower', '--showfan', '--showclocks', '--showmeminfo', 'vram', '--showuniqueid', '--json'];

export interface RocmTelemetryOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  intervalMs: number;
  onSamples(samples: TelemetrySample[]): void;
  onStatus(status: TelemetryStatus): void;
  backoff?: BackoffOptions;
}

export class RocmTelemetryPoller implements TelemetrySource {
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private failures = 0;
  private inFlight: Promise<void> | null = null;
  private current: TelemetryStatus = { state: 'stopped', reason: 'Telemetry has not started.' };

  constructor(private readonly options: RocmTelemetryOptions) {}

  get status(): TelemetryStatus {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    this.setStatus({ state: 'stopped', reason: 'Telemetry is stopped.' });
  }

  private setStatus(status: TelemetryStatus): void {
    if (status.state === this.current.state && status.reason === this.current.reason) return;
    this.current = status;
    this.options.onStatus(status);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.tick().finally(() => (this.inFlight = null));
    }, delay);
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const run = await runTool('rocm-smi', ROCM_TELEMETRY_ARGS, this.options.env, Math.max(5000, this.options.intervalMs * 5));
    if (this.stopped) return;
    let why: string | null = run.failure ?? (run.code !== 0 ? `rocm-smi exited with code ${run.code}: ${toolMessage(run)}` : null);
    if (!why) {
      try {
        const samples = rocmSamples(parseRocmSmiText(run.stdout), Date.now());
        this.failures = 0;
        this.setStatus({ state: 'running', reason: `Polling rocm-smi every ${this.options.intervalMs} ms.` });
        if (samples.length > 0) this.options.onSamples(samples);
        this.schedule(Math.max(0, this.options.intervalMs - (Date.now() - started)));
        return;
      } catch (error) {
        why = `rocm-smi printed JSON that could not be read (${(error as Error).message})`;
      }
    }
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.options.backoff ?? DEFAULT_BACKOFF);
    this.options.log.warn('rocm-smi telemetry failed', { why, failures: this.failures, delayMs: delay });
    this.setStatus(
      this.failures >= 4
        ? { state: 'unavailable', reason: `Live AMD telemetry is unavailable: ${why}. Offshift retries every ${Math.round(delay / 1000)} s.` }
        : { state: 'restarting', reason: `rocm-smi failed (${why}); retrying in ${Math.round(delay / 100) / 10} s.` },
    );
    this.schedule(delay);
  }
}
