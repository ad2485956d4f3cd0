/**
 * Every way the Docker engine can fail Offshift, in words with what to do next: the probe's
 * sentences (system check, self-test) and the AppErrors the sandbox and the jobs throw.
 * Nothing outside engine/ writes an engine error message.
 */
import { AppError } from '../errors.js';

type EngineFailure = NodeJS.ErrnoException & { statusCode?: number };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The engine answered 404: no such container, image or network. */
export function isNotFound(error: unknown): boolean {
  return (error as EngineFailure | null)?.statusCode === 404;
}

/** The engine answered 409: the name is taken, or the object is in use. */
export function isConflict(error: unknown): boolean {
  return (error as EngineFailure | null)?.statusCode === 409;
}

/** The engine could not make a job's /output volume or its keeper. */
export function outputVolumeFailed(error: unknown): AppError {
  return new AppError('output-prepare-failed', `The engine could not prepare the job's /output volume: ${messageOf(error)}. Check that Docker works (docker info) and try again.`);
}

/** Why the engine at `endpoint` could not be reached, by the error's code (the system check's words). */
export function describeEngineFailure(error: unknown, endpoint: string, timeoutMs: number): string {
  const err = error as EngineFailure;
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

/** A call to the engine failed for want of an engine (not for what was asked). */
export function engineUnreachable(error: unknown): AppError {
  return new AppError('docker-unreachable', `Cannot reach the Docker engine (${messageOf(error)}). Start Docker (sudo systemctl start docker) and make sure this user may use it.`);
}

export function badDockerHost(host: string, why: 'unreadable' | 'ssh'): Error {
  return new Error(
    why === 'ssh'
      ? `DOCKER_HOST "${host}" uses ssh://, which Offshift does not support: point it at a local socket or tcp://host:port.`
      : `DOCKER_HOST "${host}" is not an address Offshift understands: use unix:///path/docker.sock or tcp://host:port.`,
  );
}

export function imageMissing(ref: string): AppError {
  return new AppError('image-missing', `The image ${ref} is not on this machine. A local image id must be present already (docker images --no-trunc); use repo@sha256:<digest> to pull one.`);
}

export function imageNotPinned(ref: string): AppError {
  return new AppError('invalid-input', `Invalid job: image: "${ref}" is not pinned by digest.`);
}

export function imagePullFailed(ref: string, error: unknown): AppError {
  return new AppError('image-pull-failed', `Could not pull ${ref}: ${messageOf(error)}. Check the network and that the image exists.`);
}

export function imagePulledButUnlisted(ref: string): AppError {
  return new AppError('image-pull-failed', `Pulled ${ref} but the engine does not list it; refusing to run an unverified image.`);
}

export function imageDigestMismatch(ref: string, digest: string, has: readonly string[]): AppError {
  return new AppError('image-digest-mismatch', `The image for ${ref} does not carry the digest ${digest} (it has ${has.join(', ') || 'none'}); refusing to run it.`);
}

export const NVIDIA_TOOLKIT_HELP =
  'This job asks for an NVIDIA GPU, but the Docker engine has no NVIDIA runtime, so the GPU cannot be passed into a container. ' +
  'Install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html: ' +
  'apt-get install nvidia-container-toolkit), run `sudo nvidia-ctk runtime configure --runtime=docker` and `sudo systemctl restart docker`, then try again.';

/** The container is gone (removed from outside): the engine said 404 or "no such container". */
export function isContainerGone(error: unknown): boolean {
  return /\b404\b|no such container/i.test(String(error));
}

/** The engine refused to import an image Offshift makes (`what`: the image in words). */
export function imageImportFailed(code: string, what: string, why: string): AppError {
  return new AppError(code, `The engine could not make ${what}: ${why}. Check that Docker works (docker info) and try again.`);
}

export function imageImportUnlisted(code: string, what: string): AppError {
  return new AppError(code, `The engine made ${what} but does not list it; try again, or run docker images to look.`);
}

/** An image Offshift meant to remove is used by a container (a job's, or one the owner started from it). */
export function imageInUse(id: string, error: unknown): AppError {
  return new AppError('image-in-use', `The image ${id.slice(0, 19)} is used by a container, so it was kept: ${messageOf(error)}. It is removed once no container uses it.`);
}
