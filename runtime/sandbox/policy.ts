/** What the owner / administrator decides about every job, whatever the job asks for. */
export interface SandboxPolicy {
  /** The user jobs run as (never root). */
  uid: number;
  gid: number;
  /** Most processes a job may have (fork bombs stop here). */
  pidsLimit: number;
  /** /tmp: a RAM-backed tmpfs of this size. */
  tmpMiB: number;
  /** Docker's json-file log cap for a job's container. */
  logMaxBytes: number;
  /** Run under gVisor (`runsc`) when the engine has it. */
  useRunsc: boolean;
  /** Stamped on every container as io.offshift.agent: an agent only ever touches its own. */
  agentInstance: string;
  /** Job-visible folders on the host: staged inputs (mounted read-only). Null: none. */
  inputDir: string | null;
  /** For an allow-list job: its address on the egress network and the proxy to use. */
  egress?: { network: string; ip: string; proxyUrl: string } | null;
  /** The job's output folder on the host (a size-capped tmpfs the agent mounted), at /output. */
  outputDir?: string | null;
}

export const defaultSandboxPolicy: Omit<SandboxPolicy, 'agentInstance' | 'inputDir' | 'egress' | 'outputDir'> = {
  uid: 65534,
  gid: 65534,
  pidsLimit: 256,
  tmpMiB: 64,
  logMaxBytes: 8 * 1024 * 1024,
  useRunsc: false,
};

export const LABEL_MANAGED = 'io.offshift.managed';
export const LABEL_JOB = 'io.offshift.job';
export const LABEL_AGENT = 'io.offshift.agent';

/** Where a job sees its folders. */
export const SCRATCH_DIR = '/scratch';
export const INPUT_DIR = '/input';
export const OUTPUT_DIR = '/output';
