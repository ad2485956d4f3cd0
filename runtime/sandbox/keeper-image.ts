/**
 * The output keeper's image: `FROM scratch` holding only the keeper built from
 * resources/output-keeper/keeper.c (dist/output-keeper/keeper, `npm run build`), run as a
 * non-root user. Built locally through the engine from a build context made in memory (no
 * registry), labelled with the binary's sha256 so that it is rebuilt only when the binary changes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { AppError } from '../api/errors.js';
import { makeTar } from '../demo/tar.js';
import { dockerUnreachable } from './docker.js';

export const KEEPER_BINARY_NAME = 'keeper';
export const KEEPER_IMAGE_LABEL = 'io.offshift.output-keeper-image';
export const KEEPER_IMAGE_REPO = 'offshift-output-keeper';

const RECIPE_VERSION = 'v1';
const DOCKERFILE = ['FROM scratch', `COPY ${KEEPER_BINARY_NAME} /${KEEPER_BINARY_NAME}`, 'USER 65534:65534', `ENTRYPOINT ["/${KEEPER_BINARY_NAME}"]`, ''].join('\n');

/**
 * OFFSHIFT_OUTPUT_KEEPER_BINARY, else the build output (dist/output-keeper/keeper) found from
 * this module's folder, else the packaged app's resources folder. Null when there is none.
 */
export function findKeeperBinary(env: NodeJS.ProcessEnv = process.env, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  const override = env.OFFSHIFT_OUTPUT_KEEPER_BINARY;
  if (override !== undefined) return override && isFile(override) ? override : null;
  const candidates: string[] = [];
  let dir = from;
  for (let i = 0; i < 4; i++) {
    candidates.push(path.join(dir, 'dist', 'output-keeper', KEEPER_BINARY_NAME), path.join(dir, 'output-keeper', KEEPER_BINARY_NAME));
    dir = path.dirname(dir);
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) candidates.push(path.join(resources, 'app.asar.unpacked', 'dist', 'output-keeper', KEEPER_BINARY_NAME));
  return candidates.find(isFile) ?? null;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function keeperBinaryMissing(platform: NodeJS.Platform = process.platform): AppError {
  return new AppError(
    'output-keeper-missing',
    platform === 'linux'
      ? 'The output keeper is not built (dist/output-keeper/keeper is missing), so jobs of an agent that does not run as root get no /output: run npm run build (a C compiler is needed: apt-get install gcc), then restart the agent.'
      : `The output keeper (a static Linux program) is built on Linux only and this ${platform} build has none, so jobs get no /output here: use a build made on Linux.`,
  );
}

const cache = new Map<string, Promise<string>>();

/** The keeper image's local id (`sha256:…`), building it first when no image holds this binary. */
export async function ensureKeeperImage(docker: Docker, binaryPath: string | null = findKeeperBinary()): Promise<string> {
  if (!binaryPath) throw keeperBinaryMissing();
  let binary: Buffer;
  try {
    binary = fs.readFileSync(binaryPath);
  } catch {
    throw keeperBinaryMissing();
  }
  const hash = crypto.createHash('sha256').update(binary).update(RECIPE_VERSION).digest('hex');
  let work = cache.get(hash);
  if (!work) {
    work = findOrBuild(docker, binary, hash);
    cache.set(hash, work);
    // A failure is not remembered: the next job tries again.
    work.catch(() => cache.delete(hash));
  }
  const id = await work;
  // Removed from outside since (docker image prune): build it again.
  if (!(await imageExists(docker, id))) {
    cache.delete(hash);
    return ensureKeeperImage(docker, binaryPath);
  }
  return id;
}

async function imageExists(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getImage(id).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw dockerUnreachable(error);
  }
}

async function findOrBuild(docker: Docker, binary: Buffer, hash: string): Promise<string> {
  const existing = await findImage(docker, hash);
  if (existing) return existing;
  const context = makeTar([
    { name: 'Dockerfile', data: Buffer.from(DOCKERFILE), mode: 0o644 },
    { name: KEEPER_BINARY_NAME, data: binary, mode: 0o755 },
  ]);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(Readable.from([context]), { t: `${KEEPER_IMAGE_REPO}:${hash.slice(0, 12)}`, labels: { [KEEPER_IMAGE_LABEL]: hash }, rm: true, forcerm: true, version: '1' });
  } catch (error) {
    throw dockerUnreachable(error);
  }
  const problem = await new Promise<string | null>((resolve) => {
    let failed: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => resolve(error ? error.message : failed),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) failed = event.errorDetail?.message ?? event.error;
      },
    );
  });
  if (problem) throw new AppError('output-keeper-build-failed', `The engine could not build the output keeper's image: ${problem}. Check that Docker works (docker info) and try again.`);
  const id = await findImage(docker, hash);
  if (!id) throw new AppError('output-keeper-build-failed', "The engine built the output keeper's image but does not list it; try again, or run docker images to look.");
  return id;
}

async function findImage(docker: Docker, hash: string): Promise<string | null> {
  try {
    const images = await docker.listImages({ filters: { label: [`${KEEPER_IMAGE_LABEL}=${hash}`] } });
    return images[0]?.Id ?? null;
  } catch (error) {
    throw dockerUnreachable(error);
  }
}
