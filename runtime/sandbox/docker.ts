/**
 * The Docker side of the sandbox (dockerode): reaching the engine, resolving a job's image
 * (a local id that must exist, or a digest reference pulled and verified), and what the
 * engine can do (the NVIDIA runtime, gVisor).
 */
import type Docker from 'dockerode';
import { AppError } from '../errors.js';
import { createDockerClient } from '../system/docker-probe.js';
import { DIGEST_REF, LOCAL_ID } from '../jobs/schema.js';

export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  return createDockerClient(env).docker;
}

export interface EngineFeatures {
  nvidiaRuntime: boolean;
  runsc: boolean;
  /** CPUs and memory (bytes) the engine can give a container. */
  cpus: number;
  memoryBytes: number;
}

export async function engineFeatures(docker: Docker): Promise<EngineFeatures> {
  let info: { Runtimes?: Record<string, unknown>; NCPU?: number; MemTotal?: number };
  try {
    info = (await docker.info()) as typeof info;
  } catch (error) {
    throw dockerUnreachable(error);
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  return { nvidiaRuntime: runtimes.includes('nvidia'), runsc: runtimes.includes('runsc'), cpus: info.NCPU ?? 0, memoryBytes: info.MemTotal ?? 0 };
}

export function dockerUnreachable(error: unknown): AppError {
  return new AppError(
    'docker-unreachable',
    `Cannot reach the Docker engine (${error instanceof Error ? error.message : String(error)}). Start Docker (sudo systemctl start docker) and make sure this user may use it.`,
  );
}

export const NVIDIA_TOOLKIT_HELP =
  'This job asks for an NVIDIA GPU, but the Docker engine has no NVIDIA runtime, so the GPU cannot be passed into a container. ' +
  'Install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html: ' +
  'apt-get install nvidia-container-toolkit), run `sudo nvidia-ctk runtime configure --runtime=docker` and `sudo systemctl restart docker`, then try again.';

export type { PullEvent as PullProgress } from './pull-progress.js';
import type { PullEvent as PullProgress } from './pull-progress.js';

/**
 * The image id to create the job's container from. A local id must already exist; a digest
 * reference is used from the local store when present, otherwise pulled, and in both cases the
 * engine must report that very digest for it.
 */
export async function resolveImage(docker: Docker, ref: string, onProgress: (p: PullProgress) => void): Promise<string> {
  if (LOCAL_ID.test(ref)) {
    try {
      const info = await docker.getImage(ref).inspect();
      return info.Id;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        throw new AppError('image-missing', `The image ${ref} is not on this machine. A local image id must be present already (docker images --no-trunc); use repo@sha256:<digest> to pull one.`);
      }
      throw dockerUnreachable(error);
    }
  }
  if (!DIGEST_REF.test(ref)) throw new AppError('invalid-input', `Invalid job: image: "${ref}" is not pinned by digest.`);
  const digest = ref.slice(ref.indexOf('@') + 1);
  const repo = ref.slice(0, ref.indexOf('@'));
  const present = await inspectDigest(docker, ref);
  if (present) return verify(present, repo, digest, ref);
  onProgress({ status: `Pulling ${ref}`, current: null, total: null });
  try {
    const stream = await docker.pull(ref);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { id?: string; status?: string; progressDetail?: { current?: number; total?: number } }) =>
          onProgress({ id: event.id, status: event.status ?? '', current: event.progressDetail?.current ?? null, total: event.progressDetail?.total ?? null }),
      );
    });
  } catch (error) {
    throw new AppError('image-pull-failed', `Could not pull ${ref}: ${error instanceof Error ? error.message : String(error)}. Check the network and that the image exists.`);
  }
  const pulled = await inspectDigest(docker, ref);
  if (!pulled) throw new AppError('image-pull-failed', `Pulled ${ref} but the engine does not list it; refusing to run an unverified image.`);
  return verify(pulled, repo, digest, ref);
}

async function inspectDigest(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw dockerUnreachable(error);
  }
}

function verify(info: Docker.ImageInspectInfo, repo: string, digest: string, ref: string): string {
  const ok = (info.RepoDigests ?? []).some((d) => d.endsWith(`@${digest}`) && (d.startsWith(repo) || d.startsWith(`docker.io/${repo}`) || d.startsWith(`docker.io/library/${repo}`)));
  if (!ok) throw new AppError('image-digest-mismatch', `The image for ${ref} does not carry the digest ${digest} (it has ${(info.RepoDigests ?? []).join(', ') || 'none'}); refusing to run it.`);
  return info.Id;
}
