/** Pure: how a job ended, from why it was stopped (if it was) and what the engine reports. */
import { AppError } from '../errors.js';
import { jobSpecSchema, type FinalJobState, type JobSpec } from './schema.js';

export interface StopRequest {
  state: Extract<FinalJobState, 'cancelled' | 'timed-out' | 'preempted'>;
  reason: string;
  detail: string;
}

/** The reason recorded with `stopping` names the final state it leads to (used by recovery). */
export const stopReasons: Record<StopRequest['state'], string> = {
  cancelled: 'cancelled',
  'timed-out': 'max-duration',
  preempted: 'preempted',
};

/**
 * Reasons a marketplace job is stopped for, besides the owner's: each ends `cancelled` (the job
 * did not fail on its own) with a reason the buyer, the market and the owner can read.
 */
export const marketStopReasons = {
  unpaid: 'unpaid',
  marketUnreachable: 'market-unreachable',
  buyerCancelled: 'cancelled-by-buyer',
} as const;

export function stopStateFromReason(reason: string): StopRequest['state'] | null {
  for (const [state, r] of Object.entries(stopReasons)) if (r === reason) return state as StopRequest['state'];
  if ((Object.values(marketStopReasons) as string[]).includes(reason)) return 'cancelled';
  return null;
}

export function decideOutcome(input: { stop: StopRequest | null; exitCode: number | null; oomKilled: boolean }): {
  state: FinalJobState;
  reason: string;
  detail: string;
} {
  if (input.stop) return { state: input.stop.state, reason: input.stop.reason, detail: input.stop.detail };
  if (input.oomKilled) {
    return { state: 'failed', reason: 'oom-killed', detail: 'The job ran out of memory: the kernel killed it at its memory limit. Ask for more memory (--memory) or use less.' };
  }
  if (input.exitCode === 0) return { state: 'succeeded', reason: 'exit-0', detail: 'The job finished with exit code 0.' };
  if (input.exitCode === null) return { state: 'failed', reason: 'exit-unknown', detail: 'The job ended but the engine did not report an exit code.' };
  const signal =
    input.exitCode === 127
      ? ' (command not found in the image)'
      : input.exitCode === 126
        ? ' (command not executable)'
        : input.exitCode > 128 && input.exitCode < 160
          ? ` (killed by signal ${input.exitCode - 128})`
          : '';
  return { state: 'failed', reason: `exit-${input.exitCode}`, detail: `The job exited with code ${input.exitCode}${signal}.` };
}

/** Parses a job spec, naming the field in the error (unknown fields too). */
export function parseJobSpec(input: unknown, newId: () => string): JobSpec {
  const parsed = jobSpecSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `${issue.keys.map((k) => `"${k}"`).join(', ')}: not a job field (a job cannot ask for privileges, host paths or engine options)`;
      }
      const where = issue.path.length ? issue.path.join('.') : 'spec';
      return `${where}: ${issue.message.replace(/\.$/, '')}`;
    });
    throw new AppError('invalid-input', `Invalid job: ${issues.join('; ')}.`);
  }
  return { ...parsed.data, id: parsed.data.id ?? newId() };
}
