/**
 * Is the Docker engine reachable, which version, which runtimes (nvidia?) and CDI spec dirs.
 * Honours DOCKER_HOST (unix://, npipe://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) from
 * the given environment, and is time-boxed: a dead socket or one that accepts and never answers
 * gives an answer within `timeoutMs`, never a hang.
 */
import type Docker from 'dockerode';
import { z } from 'zod';
import { createDockerClient } from './connect.js';
import { describeEngineFailure } from './errors.js';

const infoSchema = z
  .object({
    ServerVersion: z.string().optional(),
    OperatingSystem: z.string().optional(),
    Runtimes: z.record(z.string(), z.unknown()).nullable().optional(),
    DefaultRuntime: z.string().optional(),
    CDISpecDirs: z.array(z.string()).nullable().optional(),
  })
  .loose();

const versionSchema = z.object({ Version: z.string().optional(), ApiVersion: z.string().optional() }).loose();

export interface DockerProbe {
  reachable: boolean;
  endpoint: string;
  version: string | null;
  apiVersion: string | null;
  operatingSystem: string | null;
  runtimes: string[];
  defaultRuntime: string | null;
  /** CDI spec directories the engine reads (Docker 25+ with CDI enabled); empty otherwise. */
  cdiSpecDirs: string[];
  /** Why it is not reachable, in words a person can act on; null when reachable. */
  error: string | null;
  elapsedMs: number;
}

/** dockerode's info()/version() take `{ abortSignal }`, which @types/dockerode does not declare. */
function withSignal(docker: Docker, method: 'info' | 'version', signal: AbortSignal): Promise<unknown> {
  const call = docker[method] as unknown as (this: Docker, opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  return call.call(docker, { abortSignal: signal });
}

export async function probeDocker(opts: { env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<DockerProbe> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const started = Date.now();
  const empty = { version: null, apiVersion: null, operatingSystem: null, runtimes: [], defaultRuntime: null, cdiSpecDirs: [] };
  let client: ReturnType<typeof createDockerClient>;
  try {
    client = createDockerClient(opts.env, timeoutMs);
  } catch (error) {
    return { reachable: false, endpoint: opts.env.DOCKER_HOST ?? '', ...empty, error: (error as Error).message, elapsedMs: Date.now() - started };
  }
  const { docker, endpoint } = client;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT_PROBE' }));
    }, timeoutMs);
  });
  try {
    const [info, version] = await Promise.race([
      Promise.all([withSignal(docker, 'info', abort.signal), withSignal(docker, 'version', abort.signal)]),
      timeout,
    ]);
    const i = infoSchema.parse(info);
    const v = versionSchema.parse(version);
    return {
      reachable: true,
      endpoint: endpoint.description,
      version: v.Version ?? i.ServerVersion ?? null,
      apiVersion: v.ApiVersion ?? null,
      operatingSystem: i.OperatingSystem ?? null,
      runtimes: Object.keys(i.Runtimes ?? {}),
      defaultRuntime: i.DefaultRuntime ?? null,
      cdiSpecDirs: i.CDISpecDirs ?? [],
      error: null,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    abort.abort();
    return { reachable: false, endpoint: endpoint.description, ...empty, error: describeEngineFailure(error, endpoint.description, timeoutMs), elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
