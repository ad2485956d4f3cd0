/**
 * Images Offshift makes on this machine from a tar of files (no registry, no Dockerfile build):
 * imported with their config changes, found again by a label carrying their content's hash.
 */
import { Readable } from 'node:stream';
import type { Engine } from './connect.js';
import { engineUnreachable, imageImportFailed, imageImportUnlisted, isNotFound } from './errors.js';

export interface ImageImport {
  /** The image's files as a tar archive. */
  tar: Buffer;
  repo: string;
  tag: string;
  /** Dockerfile-style config lines (LABEL, USER, ENTRYPOINT). */
  changes: string[];
  /** The label (`key=value`) it is found again by. */
  label: string;
  /** For its errors: the AppError code, and what the image is in words. */
  failureCode: string;
  what: string;
}

/** Imports the image and returns its id. */
export async function importImage(docker: Engine, i: ImageImport): Promise<string> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.importImage(Readable.from([i.tar]), { repo: i.repo, tag: i.tag, changes: i.changes });
  } catch (error) {
    // An answer from the engine is its refusal; no answer is an engine out of reach.
    if ((error as { statusCode?: number }).statusCode) throw imageImportFailed(i.failureCode, i.what, (error as Error).message);
    throw engineUnreachable(error);
  }
  const problem = await new Promise<string | null>((resolve) => {
    let refused: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => resolve(error ? error.message : refused),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) refused = event.errorDetail?.message ?? event.error;
      },
    );
  });
  if (problem) throw imageImportFailed(i.failureCode, i.what, problem);
  const imageId = await findImageByLabel(docker, i.label);
  if (!imageId) throw imageImportUnlisted(i.failureCode, i.what);
  return imageId;
}

export async function imageExists(docker: Engine, id: string): Promise<boolean> {
  try {
    await docker.getImage(id).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw engineUnreachable(error);
  }
}

/** The id of an image carrying `label` (`key=value`), or null. */
export async function findImageByLabel(docker: Engine, label: string): Promise<string | null> {
  try {
    const images = await docker.listImages({ filters: { label: [label] } });
    return images[0]?.Id ?? null;
  } catch (error) {
    throw engineUnreachable(error);
  }
}
