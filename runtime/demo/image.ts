/**
 * The demo job's image: `FROM scratch` holding only the renderer built from
 * resources/demo-job/render.c (dist/demo-job/render, `npm run build`), run as a non-root user,
 * with the renderer as its entry point. Made locally through the engine (no registry,
 * runtime/sandbox/local-image.ts), labelled with the content's sha256 so that it is made again
 * only when the binary changes. And the job a demo buyer asks for, which varies with its number
 * so that every demo job draws a different picture.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../engine/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { jobRequestSchema, type JobRequest } from '../../protocol/index.js';
import { ensureLocalImage, findBuildOutput, readBuildOutput, staticProgramRecipe, type LocalImage } from '../sandbox/local-image.js';

export const DEMO_BINARY_NAME = 'render';
/** On the image: its value is the sha256 of the binary and of the image's configuration. */
export const DEMO_IMAGE_LABEL = 'io.offshift.demo-job';
export const DEMO_IMAGE_REPO = 'offshift-demo-job';
/** Where the renderer writes its picture inside the job. */
export const DEMO_OUTPUT_DIR = '/output';
/** 18 tokens an hour (18 decimals): 0.005 token a second, so a demo job of ~10 s pays ~0.05. */
export const DEMO_PRICE_PER_HOUR = 18n * 10n ** 18n;

/**
 * OFFSHIFT_DEMO_JOB_BINARY, else the build output (dist/demo-job/render) found from this
 * module's folder (runtime/demo in a checkout, dist/ or dist/chunks/ when bundled), else the
 * packaged app's resources folder. Null when there is none.
 */
export function findDemoBinary(env: NodeJS.ProcessEnv = process.env, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  return findBuildOutput({
    override: env.OFFSHIFT_DEMO_JOB_BINARY,
    folder: 'demo-job',
    name: DEMO_BINARY_NAME,
    from,
    packaged: (resources) => path.join(resources, 'demo-job', DEMO_BINARY_NAME),
  });
}

export function demoBinaryMissing(): AppError {
  return new AppError(
    'demo-job-missing',
    'The demo job is not built (dist/demo-job/render is missing), so the demo network cannot run jobs: run npm run build; a C compiler is needed (apt-get install gcc).',
  );
}

export interface EnsureDemoImageOptions {
  /** The renderer; default: findDemoBinary(env). */
  binaryPath?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/** `imageId`: what a job names; `built`: true when this call made it. */
export type DemoImage = LocalImage;

/** The demo image's id, made first when no image holds this binary. */
export async function ensureDemoImage(docker: Engine, opts: EnsureDemoImageOptions = {}): Promise<DemoImage> {
  const binary = readBuildOutput(opts.binaryPath ?? findDemoBinary(opts.env ?? process.env), demoBinaryMissing);
  const image = await ensureLocalImage(
    docker,
    staticProgramRecipe({ what: "the demo job's image", repo: DEMO_IMAGE_REPO, label: DEMO_IMAGE_LABEL, name: DEMO_BINARY_NAME, program: binary, failureCode: 'demo-image-build-failed' }),
  );
  if (image.built) opts.log?.info('demo image built', { imageId: image.imageId });
  return image;
}

/** Places to render: the renderer's own list has eight; its seed picks one. */
const ZOOMS = [120, 300, 700, 1500] as const;

/** The `n`th demo job's seed and zoom (the CPU and the GPU job vary alike). */
export function demoSeedAndZoom(n: number): { seed: number; zoom: number } {
  const seed = Math.abs(Math.trunc(n)) % 1_000_000_000;
  return { seed, zoom: ZOOMS[Math.floor(seed / 8) % ZOOMS.length]! };
}

/**
 * The `n`th demo job: a CPU-only render (so it runs on machines without a GPU), its picture
 * written to /output, its seed and zoom varying with `n`.
 */
export function demoJobRequest(imageId: string, n: number, pricePerHour: bigint = DEMO_PRICE_PER_HOUR): JobRequest {
  const { seed, zoom } = demoSeedAndZoom(n);
  return jobRequestSchema.parse({
    image: imageId,
    pullFrom: null,
    command: ['--seed', String(seed), '--zoom', String(zoom), '--out', `${DEMO_OUTPUT_DIR}/mandelbrot-${seed}.png`],
    env: {},
    gpus: 0,
    cpus: 1,
    memoryMiB: 128,
    diskMiB: 16,
    outputMiB: 8,
    maxDurationSeconds: 120,
    network: 'none',
    inputs: [],
    pricePerHour: pricePerHour.toString(),
    reportIntervalSeconds: 5,
  });
}
