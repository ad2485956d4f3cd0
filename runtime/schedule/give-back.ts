/**
 * Giving the GPU back and taking it again, for the availability loop: stops or freezes the jobs
 * when a decision says work may not run, thaws them when it may again, and keeps that true
 * between decisions (a job started in a race is stopped too; frozen ones are stopped after the
 * pause grace). The job actions run one after another.
 */
import type { Logger } from '../log.js';
import type { JobControl } from './job-control.js';
import type { Decision, ScheduleSettings } from './schema.js';

export class JobGiveBack {
  private action: Promise<void> = Promise.resolve();
  private frozenAt: number | null = null;
  private preempting = false;
  private pausing = false;
  /** pauseAll was called and resumeAll not yet: the runner also holds new jobs frozen until then. */
  private held = false;

  constructor(
    private readonly jobs: JobControl,
    private readonly now: () => Date,
    private readonly log: Logger | undefined,
  ) {}

  /** Fast ticks are needed: anything runs, is frozen, or is being given back. */
  busy(): boolean {
    return this.jobs.runningCount() > 0 || this.frozenAt !== null || this.held || this.preempting || this.pausing;
  }

  /** Resolves when the job actions started so far have finished. */
  settled(): Promise<void> {
    return this.action;
  }

  /** The decision changed from `prev` to `next`. */
  onDecision(prev: Decision | null, next: Decision, s: ScheduleSettings | null): void {
    const wasRunAllowed = prev === null || prev.run;
    if (!next.run && wasRunAllowed) {
      if ((s?.onUserReturn ?? 'stop') === 'pause') {
        this.frozenAt = this.now().getTime();
        this.pause();
      } else this.preempt('preempt', s);
    } else if (next.run && !wasRunAllowed && (this.frozenAt !== null || this.held)) {
      // Thaw what is frozen, and release the runner's hold on new jobs (also after the pause
      // grace stopped the frozen ones).
      this.frozenAt = null;
      this.held = false;
      void this.run('resume', () => this.jobs.resumeAll());
    }
  }

  /** Between decisions: while work may not run, nothing runs and nothing stays frozen past the grace. */
  enforce(decision: Decision | null, s: ScheduleSettings | null): void {
    if (!decision || decision.run) return;
    if (this.frozenAt !== null) {
      const limitMs = (s?.pauseGraceMinutes ?? 10) * 60_000;
      if (this.now().getTime() - this.frozenAt >= limitMs) {
        this.frozenAt = null;
        this.log?.info('availability: frozen jobs reached the pause grace; stopping them');
        this.preempt('preempt after pause grace', s);
      } else if (!this.pausing && this.jobs.runningCount() > 0) {
        // A job started while work may not run: freeze it too.
        this.pause();
      }
    } else if (!this.preempting && this.jobs.runningCount() > 0) {
      // Work may not run, but a job is running (started in a race, or resumed elsewhere): stop it.
      this.preempt('preempt', s);
    }
  }

  private pause(): void {
    this.held = true;
    this.pausing = true;
    void this.run('pause', () => this.jobs.pauseAll()).finally(() => (this.pausing = false));
  }

  private preempt(label: string, s: ScheduleSettings | null): void {
    const graceMs = (s?.stopGraceSeconds ?? 2) * 1000;
    this.preempting = true;
    void this.run(label, () => this.jobs.preemptAll(graceMs)).finally(() => (this.preempting = false));
  }

  private run(label: string, fn: () => Promise<void>): Promise<void> {
    this.action = this.action
      .then(fn)
      .catch((error: unknown) => this.log?.error(`availability: ${label} failed`, { error: error instanceof Error ? error.message : String(error) }));
    return this.action;
  }
}
