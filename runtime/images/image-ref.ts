/**
 * An image reference pinned by digest, split the way the Docker engine splits it: the registry
 * (Docker Hub when the first part names no host), the repository (`library/` for Hub's short
 * names) and the manifest digest.
 */
import { AppError } from '../errors.js';
import { DIGEST_REF } from '../../protocol/values.js';

export interface ImageRef {
  /** e.g. 'docker.io', '127.0.0.1:5000', 'ghcr.io'. */
  registry: string;
  /** e.g. 'library/ubuntu', 'team/render'. */
  repository: string;
  /** sha256:… */
  digest: string;
  /** As given. */
  ref: string;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

/** Throws AppError('image-not-pinned') unless `repo@sha256:<64 hex>`. */
export function parseImageRef(ref: string): ImageRef {
  if (!DIGEST_REF.test(ref)) {
    throw new AppError(
      'image-not-pinned',
      `"${ref}" is not pinned by digest: Offshift runs an image only as repository@sha256:<64 hex digits>, so that what runs is exactly what was asked for. Find the digest with: docker buildx imagetools inspect <image>:<tag>.`,
    );
  }
  const at = ref.indexOf('@');
  const parts = ref.slice(0, at).split('/');
  // The engine's rule: the first part is a registry when it has a dot or a port, or is localhost.
  const first = parts[0]!;
  const named = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = named ? (HUB_ALIASES.has(first) ? DOCKER_HUB : first) : DOCKER_HUB;
  const path = named ? parts.slice(1) : parts;
  if (registry === DOCKER_HUB && path.length === 1) path.unshift('library');
  return { registry, repository: path.join('/'), digest: ref.slice(at + 1), ref };
}

/** 127.0.0.0/8, localhost or ::1, with or without a port: reached over plain HTTP, as the engine does. */
export function isLoopbackHost(hostPort: string): boolean {
  const bare = hostPort.split(':').length > 2; // an IPv6 address without brackets has no port
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : bare ? hostPort : hostPort.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
