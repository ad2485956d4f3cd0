/**
 * The demo buyer's pace and patience. Every wait has an end: a market that never answers a submit,
 * or a job whose end never comes, costs one timeout, then the buyer tries again. The figures can
 * be set from the environment (tests use short ones); a value that is not a positive number is
 * ignored and the default kept.
 */
import { DEFAULT_DEMO_IDLE_MS } from './lifetime.js';

export interface DemoTimings {
  /** The pause between one demo job's end and the next submit. */
  pauseMs: number;
  /** The pause after a problem before trying again. */
  retryMs: number;
  /** How long the market may take to accept a submit. */
  submitTimeoutMs: number;
  /** How long a submitted job may take to end (queued, run, paid) before the buyer cancels it. */
  resultTimeoutMs: number;
  /** How long a network that no agent owns waits for one to connect. */
  idleMs: number;
}

export const DEFAULT_DEMO_TIMINGS: DemoTimings = {
  pauseMs: 20_000,
  retryMs: 10_000,
  submitTimeoutMs: 30_000,
  // A demo job may run 120 s; the rest is for the queue, the last report and the outputs.
  resultTimeoutMs: 5 * 60_000,
  idleMs: DEFAULT_DEMO_IDLE_MS,
};

function seconds(raw: string | undefined, fallbackMs: number): number {
  if (raw === undefined || raw === '') return fallbackMs;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallbackMs;
}

export function demoTimings(env: NodeJS.ProcessEnv): DemoTimings {
  const d = DEFAULT_DEMO_TIMINGS;
  return {
    pauseMs: seconds(env.OFFSHIFT_DEMO_PAUSE_SECONDS, d.pauseMs),
    retryMs: seconds(env.OFFSHIFT_DEMO_RETRY_SECONDS, d.retryMs),
    submitTimeoutMs: seconds(env.OFFSHIFT_DEMO_SUBMIT_TIMEOUT_SECONDS, d.submitTimeoutMs),
    resultTimeoutMs: seconds(env.OFFSHIFT_DEMO_RESULT_TIMEOUT_SECONDS, d.resultTimeoutMs),
    idleMs: seconds(env.OFFSHIFT_DEMO_IDLE_SECONDS, d.idleMs),
  };
}
