/** A job the runner has in hand (queued to stopping): what it needs besides the stored record. */
import type { Readable } from 'node:stream';
import type { AssignedGpu } from '../sandbox/container-spec.js';
import type { JobLog } from './job-log.js';
import type { UsageMeter } from './metering.js';
import type { StopRequest } from './outcome.js';
import type { Job, JobSpec, JobState } from './schema.js';

/** Container label: the assigned GPUs with their vendor (JSON), for re-adoption after a restart. */
export const LABEL_GPUS = 'io.offshift.gpus';

export interface Active {
  id: string;
  spec: JobSpec;
  gpus: AssignedGpu[];
  state: JobState;
  containerId: string | null;
  stop: StopRequest | null;
  stopGraceMs: number;
  killTimer: NodeJS.Timeout | null;
  timeoutTimer: NodeJS.Timeout | null;
  /** Run time still allowed (pauses do not count against the maximum duration). */
  remainingMs: number;
  runningSince: number | null;
  /** Since when this container (this attempt, or this re-adoption) has been followed: an engine loss before it is not its. */
  followedSince: number;
  /** The job's address on the egress network (allow-list jobs). */
  egressIp: string | null;
  meter: UsageMeter | null;
  /** The processes on the job's GPUs before it started (not its leftovers). */
  gpuBaseline: Map<string, Set<number>>;
  /** Run under gVisor (decided at submit: the settings asked and the engine has runsc). */
  useRunsc: boolean;
  log: JobLog;
  logStream: Readable | null;
  logDone: Promise<void>;
  /** Payload bytes of the container's output received so far, per stream (for the catch-up read at the end). */
  logSeen: { stdout: number; stderr: number };
  done: Promise<Job>;
  resolveDone: (job: Job) => void;
  /**
   * Aborted when the agent stops while the job runs: its run lets go of the container (the
   * wait for its exit included, which would otherwise keep the agent's process alive) and does
   * nothing more; the next start re-adopts the job, or records its end if it exited meanwhile.
   */
  detach: AbortController;
  /** Aborted when the job is stopped while its image is pulled: the job stops waiting (the image store decides whether the pull goes on). */
  pullAbort: AbortController;
}
