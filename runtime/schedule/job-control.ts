/**
 * What the availability loop needs from the job runner (runtime/jobs/runner.ts implements it):
 * stop every running job (SIGTERM, grace, SIGKILL; they end `preempted`), freeze them, thaw them.
 */
export interface JobControl {
  preemptAll(graceMs?: number): Promise<void>;
  pauseAll(): Promise<void>;
  resumeAll(): Promise<void>;
  runningCount(): number;
}
