/**
 * Every way reading an image from a registry can fail, in words: a `RegistryFailure` says what
 * one registry did, and becomes either the reason the mirror was passed over or, from the
 * image's own registry, the AppError a person sees with what to check next.
 */
import { AppError } from '../errors.js';
import type { ImageRef } from './image-ref.js';

export type FailureKind = 'unreachable' | 'timeout' | 'server-error' | 'not-found' | 'denied' | 'rate-limited' | 'bad-answer' | 'too-large' | 'mismatch';

/** What one registry did wrong; `detail` is a clause, e.g. "the connection was refused". */
export class RegistryFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'RegistryFailure';
  }
}

/** Why the mirror was not used, for ManifestFacts.mirrorProblem. */
export function mirrorProblem(mirrorHost: string, originHost: string, failure: RegistryFailure): string {
  return `The registry mirror ${mirrorHost} was not used (${failure.detail}); the image comes from ${originHost} instead.`;
}

/** The image's own registry failed: what a person sees. */
export function originFailed(ref: ImageRef, host: string, failure: RegistryFailure, mirrorFailure: { host: string; failure: RegistryFailure } | null): AppError {
  const mirror = mirrorFailure ? ` The registry mirror ${mirrorFailure.host} could not serve it either (${mirrorFailure.failure.detail}).` : '';
  if (failure.kind === 'mismatch') {
    return new AppError(
      'image-digest-mismatch',
      `${host} served ${ref.ref} with bytes that do not match its digest (${failure.detail}). Offshift refuses to use it: the registry, or something between it and this computer, altered the image. Try again later; if it keeps happening, tell whoever published the image.${mirror}`,
    );
  }
  return new AppError('image-unreadable', `Could not read ${ref.ref} from ${host}: ${failure.detail}. ${advice(failure.kind, host)}${mirror}`);
}

function advice(kind: FailureKind, host: string): string {
  switch (kind) {
    case 'unreachable':
    case 'timeout':
    case 'server-error':
      return `Check that this computer reaches ${host} (network, proxy, firewall) and that the registry is up, then try again.`;
    case 'not-found':
      return 'Check the image reference: the repository must exist and be public, and the digest must be the image manifest’s (docker buildx imagetools inspect <image>:<tag> shows it).';
    case 'denied':
      return 'Offshift reads images without logging in: the repository must be public.';
    case 'rate-limited':
      return 'The registry limits anonymous downloads: try again later, or set a registry mirror in the images settings.';
    default:
      return `${host} may not be a container registry, or it is misbehaving: check the image reference and try again later.`;
  }
}
