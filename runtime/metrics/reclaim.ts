/**
 * Reclaim latency: from the decision to stop lending the GPU (the owner came back, a pause, the
 * heat…) to no job running any more. The schedule gives the GPU back (schedule/give-back.ts); this
 * watches the agent's state inputs from outside, so the measure needs no hook in the loop. A
 * resume before the jobs stopped drops the measure: nothing was reclaimed.
 */
import { Histogram } from './histogram.js';

export interface ReclaimInputs {
  availability: { run: boolean } | null;
  manualPause: unknown;
  runningJobs: number;
}

/** Seconds: a preempt is a SIGTERM plus the stop grace (2 s by default); a slow engine takes longer. */
export const RECLAIM_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];

export class ReclaimWatch {
  readonly histogram = new Histogram('offshift_reclaim_latency_seconds', 'From the decision to give the GPU back to the owner to no job running any more.', RECLAIM_BUCKETS);
  private since: number | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** True while a measure is open (the host checks again soon). */
  get pending(): boolean {
    return this.since !== null;
  }

  check(inputs: ReclaimInputs): void {
    const stopWanted = inputs.manualPause != null || (inputs.availability !== null && !inputs.availability.run);
    if (!stopWanted) {
      this.since = null;
      return;
    }
    if (this.since === null) {
      if (inputs.runningJobs > 0) this.since = this.now();
      return;
    }
    if (inputs.runningJobs === 0) {
      this.histogram.observe((this.now() - this.since) / 1000);
      this.since = null;
    }
  }
}
