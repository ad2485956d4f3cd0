/**
 * A job's image on the engine: a local id that must exist, or a digest reference used from the
 * local store or pulled, and in both cases verified to carry that digest. Also what the engine
 * can run containers with (the NVIDIA runtime, gVisor, its CPUs and memory).
 */
import type Docker from 'dockerode';
import { DIGEST_REF, LOCAL_ID } from '../jobs/schema.js';
import type { PullEvent as PullProgress } from '../sandbox/pull-progress.js';
import type { Engine } from './connect.js';
import { engineUnreachable, imageInUse, isConflict, imageDigestMismatch, imageMissing, imageNotPinned, imagePulledButUnlisted, imagePullFailed, isNotFound } from './errors.js';

export type { PullEvent as PullProgress } from '../sandbox/pull-progress.js';

export interface EngineFeatures {
  nvidiaRuntime: boolean;
  runsc: boolean;
  /** CPUs and memory (bytes) the engine can give a container. */
  cpus: number;
  memoryBytes: number;
}

export async function engineFeatures(docker: Engine): Promise<EngineFeatures> {
  let info: { Runtimes?: Record<string, unknown>; NCPU?: number; MemTotal?: number };
  try {
    info = (await docker.info()) as typeof info;
  } catch (error) {
    throw engineUnreachable(error);
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  return { nvidiaRuntime: runtimes.includes('nvidia'), runsc: runtimes.includes('runsc'), cpus: info.NCPU ?? 0, memoryBytes: info.MemTotal ?? 0 };
}

/**
 * The image id to create the job's container from. A local id must already exist; a digest
 * reference is used from the local store when present, otherwise pulled, and in both cases the
 * engine must report that very digest for it.
 */
export async function resolveImage(docker: Engine, ref: string, onProgress: (p: PullProgress) => void): Promise<string> {
  if (LOCAL_ID.test(ref)) {
    const info = await inspectImage(docker, ref);
    if (!info) throw imageMissing(ref);
    return info.Id;
  }
  if (!DIGEST_REF.test(ref)) throw imageNotPinned(ref);
  const digest = ref.slice(ref.indexOf('@') + 1);
  const repo = ref.slice(0, ref.indexOf('@'));
  const present = await inspectImage(docker, ref);
  if (present) return verify(present, repo, digest, ref);
  onProgress({ status: `Pulling ${ref}`, current: null, total: null });
  try {
    await pullImage(docker, ref, onProgress);
  } catch (error) {
    throw imagePullFailed(ref, error);
  }
  const pulled = await inspectImage(docker, ref);
  if (!pulled) throw imagePulledButUnlisted(ref);
  return verify(pulled, repo, digest, ref);
}

/** Pulls `ref`, reporting the engine's progress events, until the pull ends. */
export async function pullImage(docker: Engine, ref: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const stream = await docker.pull(ref, signal ? { abortSignal: signal } : {});
  await new Promise<void>((resolve, reject) => {
    // The engine tells a failed pull as a line of the stream ({"error": …}), not as a failed stream.
    let failed: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : failed ? reject(new Error(failed)) : resolve()),
      (event: { id?: string; status?: string; error?: string; errorDetail?: { message?: string }; progressDetail?: { current?: number; total?: number } }) => {
        if (event.error || event.errorDetail) failed = event.errorDetail?.message ?? event.error ?? 'the engine reported an error';
        else onProgress({ id: event.id, status: event.status ?? '', current: event.progressDetail?.current ?? null, total: event.progressDetail?.total ?? null });
      },
    );
  });
}

/** The image's details, or null when the engine has no such image. */
export async function inspectImage(docker: Engine, ref: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (error) {
    if (isNotFound(error)) return null;
    throw engineUnreachable(error);
  }
}

/** An image on the engine, as its list shows it. */
export interface EngineImage {
  id: string;
  repoDigests: string[];
  /** Tags: an image pulled by digest has none, so a tag is someone's (the owner's) name for it. */
  repoTags: string[];
  sizeBytes: number;
}

export async function listEngineImages(docker: Engine): Promise<EngineImage[]> {
  try {
    const list = await docker.listImages({ all: false });
    return list.map((i) => ({ id: i.Id, repoDigests: i.RepoDigests ?? [], repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), sizeBytes: i.Size }));
  } catch (error) {
    throw engineUnreachable(error);
  }
}

/** The uncompressed layer digests (diff ids) an image is made of; null when the engine has no such image. */
export async function imageLayers(docker: Engine, id: string): Promise<string[] | null> {
  const info = await inspectImage(docker, id);
  return info ? (info.RootFS?.Layers ?? []) : null;
}

/** Removes an image Offshift pulled, by id; false when the engine no longer had it. A container using it makes this fail (409). */
export async function removeImage(docker: Engine, id: string): Promise<boolean> {
  try {
    await docker.getImage(id).remove({ force: true, noprune: false });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    if (isConflict(error)) throw imageInUse(id, error);
    throw engineUnreachable(error);
  }
}

/** Where the engine keeps its images (its data root), for the free-disk figure. */
export async function engineDataRoot(docker: Engine): Promise<string | null> {
  try {
    const info = (await docker.info()) as { DockerRootDir?: string };
    return info.DockerRootDir ?? null;
  } catch (error) {
    throw engineUnreachable(error);
  }
}

function verify(info: Docker.ImageInspectInfo, repo: string, digest: string, ref: string): string {
  const ok = (info.RepoDigests ?? []).some((d) => d.endsWith(`@${digest}`) && (d.startsWith(repo) || d.startsWith(`docker.io/${repo}`) || d.startsWith(`docker.io/library/${repo}`)));
  if (!ok) throw imageDigestMismatch(ref, digest, info.RepoDigests ?? []);
  return info.Id;
}

/**
 * The engine client the runner's parts use, with every image pull bound to `signal`: close()
 * aborts the pulls in progress (a slow or silent registry must not hold the agent's stop).
 */
export function withAbortablePulls(docker: Engine, signal: AbortSignal): Engine {
  return new Proxy(docker, {
    get(target, prop) {
      if (prop === 'pull') return (ref: string, opts: object = {}) => target.pull(ref, { ...opts, abortSignal: signal });
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
