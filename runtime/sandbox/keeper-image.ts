/**
 * The output keeper's image: `FROM scratch` holding only the keeper built from
 * resources/output-keeper/keeper.c (dist/output-keeper/keeper, `npm run build`), run as a
 * non-root user. Made locally through the engine (no registry, local-image.ts), labelled with the
 * content's sha256 so that it is made again only when the binary changes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../engine/index.js';
import { AppError } from '../errors.js';
import { ensureLocalImage, findBuildOutput, readBuildOutput, staticProgramRecipe } from './local-image.js';

export const KEEPER_BINARY_NAME = 'keeper';
export const KEEPER_IMAGE_LABEL = 'io.offshift.output-keeper-image';
export const KEEPER_IMAGE_REPO = 'offshift-output-keeper';

/**
 * OFFSHIFT_OUTPUT_KEEPER_BINARY, else the build output (dist/output-keeper/keeper) found from
 * this module's folder, else the packaged app's resources folder. Null when there is none.
 */
export function findKeeperBinary(env: NodeJS.ProcessEnv = process.env, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  return findBuildOutput({
    override: env.OFFSHIFT_OUTPUT_KEEPER_BINARY,
    folder: 'output-keeper',
    name: KEEPER_BINARY_NAME,
    from,
    packaged: (resources) => path.join(resources, 'app.asar.unpacked', 'dist', 'output-keeper', KEEPER_BINARY_NAME),
  });
}

export function keeperBinaryMissing(platform: NodeJS.Platform = process.platform): AppError {
  return new AppError(
    'output-keeper-missing',
    platform === 'linux'
      ? 'The output keeper is not built (dist/output-keeper/keeper is missing), so jobs of an agent that does not run as root get no /output: run npm run build (a C compiler is needed: apt-get install gcc), then restart the agent.'
      : `The output keeper (a static Linux program) is built on Linux only and this ${platform} build has none, so jobs get no /output here: use a build made on Linux.`,
  );
}

/** The keeper image's local id (`sha256:…`), made first when no image holds this binary. */
export async function ensureKeeperImage(docker: Engine, binaryPath: string | null = findKeeperBinary()): Promise<string> {
  const binary = readBuildOutput(binaryPath, () => keeperBinaryMissing());
  const image = await ensureLocalImage(
    docker,
    staticProgramRecipe({ what: "the output keeper's image", repo: KEEPER_IMAGE_REPO, label: KEEPER_IMAGE_LABEL, name: KEEPER_BINARY_NAME, program: binary, failureCode: 'output-keeper-build-failed' }),
  );
  return image.imageId;
}
