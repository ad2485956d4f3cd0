/**
 * Jobs: the spec a job is submitted with, its states, the record the agent keeps, and the
 * payloads of the jobs.* commands and job.* events. Pure zod (the renderer type-checks it).
 */
import { z } from 'zod';
import { DIGEST_REF, LOCAL_ID, MAX_ALLOWED_HOSTS, networkSchema } from '../../protocol/values.js';
import { retentionRemovalSchema } from './retention-schema.js';

/**
 * What one job may cost the agent to keep and to list: every record is read back by
 * jobs.get and sent in job.update events, so each part is bounded in size, not only in count.
 */
export const JOB_LIMITS = {
  commandArgs: 1024,
  /** All the command's arguments together, characters. */
  commandChars: 64 * 1024,
  envVars: 256,
  /** Every name and value together, characters. */
  envChars: 64 * 1024,
  allowHosts: MAX_ALLOWED_HOSTS,
  gpuUuids: 64,
  inputFiles: 256,
  /** Every staged input file together, characters. */
  inputChars: 512 * 1024,
} as const;

/**
 * Environment names the agent sets itself (docs/sandbox.md): the GPU runtime's selection and
 * capabilities, the egress proxy, our own. A job may not set them; the container spec sets
 * them explicitly so that the image's own ENV cannot either.
 */
export const RESERVED_ENV = /^(?:NVIDIA_.*|CUDA_VISIBLE_DEVICES|(?:HTTPS?|NO|ALL)_PROXY|OFFSHIFT_.*)$/i;

const totalChars = (values: Iterable<string>) => {
  let n = 0;
  for (const v of values) n += v.length;
  return n;
};

// Image references and the network allow-list are part of what the marketplace protocol carries.
export { DIGEST_REF, LOCAL_ID, networkSchema, type JobNetwork } from '../../protocol/values.js';

const imageSchema = z.string().superRefine((value, ctx) => {
  if (DIGEST_REF.test(value) || LOCAL_ID.test(value)) return;
  const tagOnly = !value.includes('@');
  // An error names the value, shortened: a reply must not be as large as a hostile input.
  value = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  ctx.addIssue({
    code: 'custom',
    message: tagOnly
      ? `"${value}" is not pinned: a tag can change under a job. Use repo@sha256:<digest> (docker images --digests shows it) or a local image id sha256:<64 hex>.`
      : `"${value}" is not a valid pinned reference: use repo@sha256:<64 hex digits> or sha256:<64 hex digits>.`,
  });
});

const GPU_UUID = /^(GPU|MIG)-[0-9a-fA-F-]{8,}$/;
export const gpuRequestSchema = z.union([
  z.number().int().nonnegative(),
  z.literal('all'),
  z.array(z.string().max(100).regex(GPU_UUID, 'a GPU UUID looks like GPU-xxxxxxxx-…')).min(1).max(JOB_LIMITS.gpuUuids),
]);
export type GpuRequest = z.infer<typeof gpuRequestSchema>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;


/**
 * A job as submitted (by the marketplace or `offshift job run`). Strict: an unknown field (a
 * `privileged` flag, `binds`, `volumes`, `hostPath`, `capAdd`…) is refused with its name.
 */
export const jobSpecSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)')
      .optional(),
    marketJobId: z.string().min(1).max(200).optional(),
    image: imageSchema,
    command: z
      .array(z.string())
      .min(1, 'a job needs a command')
      .max(JOB_LIMITS.commandArgs, `at most ${JOB_LIMITS.commandArgs} arguments`)
      .refine((args) => totalChars(args) <= JOB_LIMITS.commandChars, `at most ${JOB_LIMITS.commandChars} characters in all (stage larger data as inputs)`),
    env: z
      .record(
        z.string().regex(ENV_NAME, 'environment names are letters, digits and _'),
        z.string(),
      )
      .superRefine((env, ctx) => {
        for (const name of Object.keys(env)) {
          if (RESERVED_ENV.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by the agent (the GPUs, the proxy), not by a job` });
        }
      })
      .refine((env) => Object.keys(env).length <= JOB_LIMITS.envVars, `at most ${JOB_LIMITS.envVars} variables`)
      .refine((env) => totalChars(Object.entries(env).flat()) <= JOB_LIMITS.envChars, `at most ${JOB_LIMITS.envChars} characters in all`)
      .default({}),
    gpus: gpuRequestSchema.default(0),
    cpus: z.number().positive().max(1024).default(1),
    memoryMiB: z.number().int().min(6, 'at least 6 MiB (Docker refuses less)').max(16 * 1024 * 1024).default(512),
    shmMiB: z.number().int().positive().max(1024 * 1024).default(64),
    diskMiB: z.number().int().positive().max(1024 * 1024).default(256),
    /** Size of the /output folder collected when the job ends (0: none). */
    outputMiB: z.number().int().nonnegative().max(1024 * 1024).default(64),
    timeoutSeconds: z.number().int().positive().max(30 * 24 * 3600).default(3600),
    network: networkSchema.default('none'),
  })
  .strict();
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema> & { id: string };

export const finalJobStates = ['succeeded', 'failed', 'cancelled', 'timed-out', 'preempted'] as const;
export const jobStateSchema = z.enum(['queued', 'pulling', 'starting', 'running', 'paused', 'stopping', ...finalJobStates]);
export type JobState = z.infer<typeof jobStateSchema>;
export type FinalJobState = (typeof finalJobStates)[number];
export function isFinalState(state: JobState): state is FinalJobState {
  return (finalJobStates as readonly string[]).includes(state);
}

export const gpuUsageSchema = z.object({
  gpuKey: z.string(),
  seconds: z.number(),
  /** Mean utilisation over the telemetry samples taken while the job ran (NVIDIA). */
  avgUtilizationPct: z.number().nullable(),
  /** Energy integrated from power-draw samples, in joules (NVIDIA). */
  energyJ: z.number().nullable(),
  samples: z.number().int(),
});
export const jobUsageSchema = z.object({
  /** Time from container start to its end, pauses included. */
  wallMs: z.number(),
  /** Time the job actually ran (pauses excluded): what GPU-seconds are counted from. */
  runMs: z.number(),
  gpus: z.array(gpuUsageSchema),
});
export type JobUsage = z.infer<typeof jobUsageSchema>;

export const jobSchema = z.object({
  id: z.string(),
  marketJobId: z.string().nullable(),
  spec: jobSpecSchema,
  state: jobStateSchema,
  /** Machine-readable, e.g. `exit-0`, `oom-killed`, `cancelled-by-user`, `max-duration`. */
  reason: z.string(),
  /** The reason in plain words. */
  detail: z.string(),
  stateChangedAt: z.number(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  gpus: z.array(z.string()),
  logTail: z.string(),
  logDroppedBytes: z.number().int(),
  usage: jobUsageSchema.nullable(),
});
export type Job = z.infer<typeof jobSchema>;

export const jobEventSchema = z.object({ at: z.number(), state: jobStateSchema, reason: z.string() });

/** How far a long step of a job is (today: the image pull), for a progress bar. */
export const jobProgressEventSchema = z.object({
  id: z.string(),
  phase: z.literal('pull'),
  /** 0…1, or null while unknown. */
  fraction: z.number().min(0).max(1).nullable(),
  detail: z.string(),
  /** Compressed bytes fetched of those missing (from the registry's manifest), the measured rate and what is left at it. */
  bytes: z.number().int().nonnegative().optional(),
  totalBytes: z.number().int().nonnegative().nullable().optional(),
  bytesPerSecond: z.number().nonnegative().nullable().optional(),
  etaSeconds: z.number().nonnegative().nullable().optional(),
});
export type JobProgressEvent = z.infer<typeof jobProgressEventSchema>;

export const jobLogEventSchema = z.object({
  id: z.string(),
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
});
export type JobLogEvent = z.infer<typeof jobLogEventSchema>;

// ── command payloads ────────────────────────────────────────────────────
/** A page of jobs.list: newest first; `offset` skips that many. */
export const JOBS_PAGE = { defaultLimit: 50, maxLimit: 200 } as const;
export const jobsListInputSchema = z
  .object({
    limit: z.number().int().positive().max(JOBS_PAGE.maxLimit).optional(),
    offset: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();
/** A job in a list: no command, no env, no log tail (jobs.get and jobs.logs give those). */
export const jobSpecSummarySchema = jobSpecSchema.omit({ command: true, env: true });
export const jobSummarySchema = jobSchema.omit({ spec: true, logTail: true }).extend({ spec: jobSpecSummarySchema });
export type JobSummary = z.infer<typeof jobSummarySchema>;
export const jobsListOutputSchema = z.object({
  jobs: z.array(jobSummarySchema),
  /** How many jobs there are in all. */
  total: z.number().int(),
  /** The offset of the next page, or null on the last one. */
  nextOffset: z.number().int().nullable(),
  /** GPUs taken out of service after a job left memory on them, with the reason to show. */
  gpusOutOfService: z.array(z.object({ gpuKey: z.string(), reason: z.string() })),
});
export const jobIdInputSchema = z.object({ id: z.string().min(1) }).strict();
export const jobsGetOutputSchema = z.object({ job: jobSchema, events: z.array(jobEventSchema) });
export const jobsLogsOutputSchema = z.object({ id: z.string(), text: z.string(), droppedBytes: z.number().int() });
export const jobsCancelOutputSchema = z.object({ job: jobSchema });
export const jobsRunInputSchema = z
  .object({
    spec: jobSpecSchema,
    /** Files staged read-only at /input: relative path → UTF-8 text. */
    inputs: z
      .record(z.string().min(1).max(4096), z.string())
      .refine((files) => Object.keys(files).length <= JOB_LIMITS.inputFiles, `at most ${JOB_LIMITS.inputFiles} files`)
      .refine((files) => totalChars(Object.entries(files).flat()) <= JOB_LIMITS.inputChars, `at most ${JOB_LIMITS.inputChars} characters in all`)
      .optional(),
  })
  .strict();
export const jobsRunOutputSchema = z.object({ job: jobSchema });

/** A file the job left in its output folder (jobs.outputs). */
export const jobOutputFileSchema = z.object({
  /** Relative to the output folder, with `/`. */
  path: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  /** image/png, image/jpeg, … (pictures by their bytes), else from the name; application/octet-stream when unknown. */
  mimeType: z.string(),
  modifiedAt: z.number(),
});
export type JobOutputFile = z.infer<typeof jobOutputFileSchema>;
export const jobsOutputsOutputSchema = z.object({
  id: z.string(),
  files: z.array(jobOutputFileSchema),
  /** More files were there than are listed. */
  truncated: z.boolean(),
  /** When retention removed the job's output and log (null while they are kept). */
  removed: retentionRemovalSchema.nullable(),
});
export const jobsOutputFileInputSchema = z.object({ id: z.string().min(1).max(64), path: z.string().min(1).max(1024) }).strict();
export const jobsOutputFileOutputSchema = z.object({
  id: z.string(),
  path: z.string(),
  mimeType: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  /** `data:image/…;base64,…` (pictures up to 4 MiB). */
  dataUrl: z.string(),
});
