/**
 * The demo job's image: `FROM scratch` holding only the renderer built from
 * resources/demo-job/render.c (dist/demo-job/render, `npm run build`), run as a non-root user,
 * with the renderer as its entry point. Built locally through the engine (no registry), from a
 * build context made in memory, and labelled with the binary's sha256 so that it is rebuilt
 * only when the binary changes. And the job a demo buyer asks for, which varies with its number
 * so that every demo job draws a different picture.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { AppError } from '../api/errors.js';
import type { Logger } from '../log.js';
import { jobRequestSchema, type JobRequest } from '../market/protocol.js';
import { dockerUnreachable } from '../sandbox/docker.js';
import { makeTar } from './tar.js';

export const DEMO_BINARY_NAME = 'render';
/** On the image: its value is the sha256 of the binary (and of the recipe below). */
export const DEMO_IMAGE_LABEL = 'io.offshift.demo-job';
export const DEMO_IMAGE_REPO = 'offshift-demo-job';
/** Where the renderer writes its picture inside the job. */
export const DEMO_OUTPUT_DIR = '/output';
/** 18 tokens an hour (18 decimals): 0.005 token a second, so a demo job of ~10 s pays ~0.05. */
export const DEMO_PRICE_PER_HOUR = 18n * 10n ** 18n;

/** Bumped when the recipe changes, so the label changes and the image is rebuilt. */
const RECIPE_VERSION = 'v1';
const DOCKERFILE = [
  'FROM scratch',
  `COPY ${DEMO_BINARY_NAME} /${DEMO_BINARY_NAME}`,
  'USER 65534:65534',
  `ENTRYPOINT ["/${DEMO_BINARY_NAME}"]`,
  '',
].join('\n');

/**
 * OFFSHIFT_DEMO_JOB_BINARY, else the build output (dist/demo-job/render) found from this
 * module's folder (runtime/demo in a checkout, dist/ or dist/chunks/ when bundled), else the
 * packaged app's resources folder. Null when there is none.
 */
export function findDemoBinary(env: NodeJS.ProcessEnv = process.env, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  const override = env.OFFSHIFT_DEMO_JOB_BINARY;
  if (override !== undefined) return override && isFile(override) ? override : null;
  const candidates: string[] = [];
  let dir = from;
  for (let i = 0; i < 4; i++) {
    candidates.push(path.join(dir, 'dist', 'demo-job', DEMO_BINARY_NAME), path.join(dir, 'demo-job', DEMO_BINARY_NAME));
    dir = path.dirname(dir);
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) candidates.push(path.join(resources, 'demo-job', DEMO_BINARY_NAME));
  return candidates.find(isFile) ?? null;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
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

export interface DemoImage {
  /** The engine's local id, `sha256:<64 hex>`: what a job names. */
  imageId: string;
  /** True when this call built it; false when an image with the same binary was there. */
  built: boolean;
}

const inFlight = new Map<string, Promise<DemoImage>>();

/** The demo image's id, building it first when no image holds this binary. */
export async function ensureDemoImage(docker: Docker, opts: EnsureDemoImageOptions = {}): Promise<DemoImage> {
  const binaryPath = opts.binaryPath ?? findDemoBinary(opts.env ?? process.env);
  if (!binaryPath) throw demoBinaryMissing();
  let binary: Buffer;
  try {
    binary = fs.readFileSync(binaryPath);
  } catch {
    throw demoBinaryMissing();
  }
  const hash = crypto.createHash('sha256').update(binary).update(RECIPE_VERSION).digest('hex');
  const pending = inFlight.get(hash);
  if (pending) return pending;
  const work = findOrBuild(docker, binary, hash, opts.log).finally(() => inFlight.delete(hash));
  inFlight.set(hash, work);
  return work;
}

async function findOrBuild(docker: Docker, binary: Buffer, hash: string, log?: Logger): Promise<DemoImage> {
  const existing = await findImage(docker, hash);
  if (existing) return { imageId: existing, built: false };

  const context = makeTar([
    { name: 'Dockerfile', data: Buffer.from(DOCKERFILE), mode: 0o644 },
    { name: DEMO_BINARY_NAME, data: binary, mode: 0o755 },
  ]);
  const tag = `${DEMO_IMAGE_REPO}:${hash.slice(0, 12)}`;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(Readable.from([context]), { t: tag, labels: { [DEMO_IMAGE_LABEL]: hash }, rm: true, forcerm: true, version: '1' });
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
  if (problem) throw new AppError('demo-image-build-failed', `The engine could not build the demo job's image: ${problem}. Check that Docker works (docker info) and try again.`);
  const imageId = await findImage(docker, hash);
  if (!imageId) throw new AppError('demo-image-build-failed', "The engine built the demo job's image but does not list it; try again, or run docker images to look.");
  log?.info('demo image built', { imageId, tag });
  return { imageId, built: true };
}

async function findImage(docker: Docker, hash: string): Promise<string | null> {
  try {
    const images = await docker.listImages({ filters: { label: [`${DEMO_IMAGE_LABEL}=${hash}`] } });
    return images[0]?.Id ?? null;
  } catch (error) {
    throw dockerUnreachable(error);
  }
}

/** Places to render: the renderer's own list has eight; its seed picks one. */
const ZOOMS = [120, 300, 700, 1500] as const;

/**
 * The `n`th demo job: a CPU-only render (so it runs on machines without a GPU), its picture
 * written to /output, its seed and zoom varying with `n`.
 */
export function demoJobRequest(imageId: string, n: number, pricePerHour: bigint = DEMO_PRICE_PER_HOUR): JobRequest {
  const seed = Math.abs(Math.trunc(n)) % 1_000_000_000;
  const zoom = ZOOMS[Math.floor(seed / 8) % ZOOMS.length]!;
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
