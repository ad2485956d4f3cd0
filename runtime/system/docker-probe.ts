/**
 * Is the Docker engine reachable, which version, which runtimes (nvidia?) and CDI spec dirs.
 * Honours DOCKER_HOST (unix://, npipe://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) from
 * the given environment, and is time-boxed: a dead socket or one that accepts and never answers
 * gives an answer within `timeoutMs`, never a hang. The sandbox capability reuses
 * `dockerOptionsFromEnv` / `createDockerClient` to talk to the same engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { loadDockerode } from './dockerode.js';
import { z } from 'zod';

export interface DockerEndpoint {
  options: Docker.DockerOptions;
  /** The endpoint in words, e.g. "unix:///var/run/docker.sock". */
  description: string;
}

export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim();
  const defaultSocket = platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock';
  if (!host) {
    return { options: { socketPath: defaultSocket }, description: platform === 'win32' ? `npipe://${defaultSocket}` : `unix://${defaultSocket}` };
  }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || defaultSocket;
    return { options: { socketPath }, description: `unix://${socketPath}` };
  }
  if (host.startsWith('npipe://')) {
    const socketPath = host.slice('npipe://'.length) || '//./pipe/docker_engine';
    return { options: { socketPath }, description: `npipe://${socketPath}` };
  }
  let url: URL;
  try {
    url = new URL(host.includes('//') ? host : `tcp://${host}`);
  } catch {
    throw new Error(`DOCKER_HOST "${host}" is not an address Offshift understands: use unix:///path/docker.sock or tcp://host:port.`);
  }
  if (url.protocol === 'ssh:') {
    throw new Error(`DOCKER_HOST "${host}" uses ssh://, which Offshift does not support: point it at a local socket or tcp://host:port.`);
  }
  const port = url.port || '2375';
  const tls = env.DOCKER_TLS_VERIFY === '1' || port === '2376';
  const options: Docker.DockerOptions = { host: url.hostname, port, protocol: tls ? 'https' : 'http' };
  if (env.DOCKER_CERT_PATH) {
    options.ca = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'ca.pem'));
    options.cert = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'cert.pem'));
    options.key = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'key.pem'));
  }
  return { options, description: `${tls ? 'https' : 'tcp'}://${url.hostname}:${port}` };
}

export function createDockerClient(env: NodeJS.ProcessEnv, timeoutMs?: number): { docker: Docker; endpoint: DockerEndpoint } {
  const endpoint = dockerOptionsFromEnv(env);
  const Dockerode = loadDockerode();
  return { docker: new Dockerode({ ...endpoint.options, ...(timeoutMs ? { timeout: timeoutMs } : {}) }), endpoint };
}

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

export function describeDockerError(error: unknown, endpoint: string, timeoutMs: number): string {
  const err = error as NodeJS.ErrnoException & { statusCode?: number };
  const socket = endpoint.replace(/^unix:\/\//, '');
  switch (err?.code) {
    case 'ETIMEDOUT_PROBE':
      return `The Docker engine at ${endpoint} did not answer within ${Math.round(timeoutMs / 100) / 10} s: it may be starting or hung. Restart it (Linux: sudo systemctl restart docker; Windows/macOS: restart Docker Desktop) and check again.`;
    case 'ENOENT':
      return `Docker is not running or not installed: ${socket} does not exist. Install Docker Engine and start it (Linux: sudo systemctl enable --now docker), or set DOCKER_HOST to your engine's socket.`;
    case 'ECONNREFUSED':
      return `Nothing answers at ${endpoint}: the Docker engine is not running. Start it (Linux: sudo systemctl start docker) and check again.`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied on ${socket}: add your user to the docker group (sudo usermod -aG docker $USER), log out and in again, then check again.`;
    default:
      return `Could not talk to the Docker engine at ${endpoint}: ${err?.message ?? String(error)}. Make sure Docker is installed and running.`;
  }
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
    return { reachable: false, endpoint: endpoint.description, ...empty, error: describeDockerError(error, endpoint.description, timeoutMs), elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
