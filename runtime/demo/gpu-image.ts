/**
 * The demo's GPU job (issue 15): a CUDA build of the demo renderer
 * (resources/demo-gpu-job/render-cuda.cu → dist/demo-job/render-cuda, `npm run build` where nvcc
 * is), in an image made on this machine like the CPU job's (no registry). The CUDA runtime is
 * linked into the program; what it still loads from the system is the C library (and the driver's
 * libcuda, which the NVIDIA container runtime mounts into a job given a GPU). So the image is
 * `FROM scratch` with the program, the C libraries it links (ldd, as the benchmark's image), the
 * ones libcuda itself needs on glibc systems (libdl, libpthread, librt: stubs on glibc 2.34 and
 * later, real libraries before), a passwd and the job's folders. The NVIDIA runtime mounts the
 * driver's libraries into /usr/lib64 of such an image (it has no /etc/debian_version) and runs
 * ldconfig over it. Labelled with the content's
 * sha256, so it is made again only when the program or the host's libraries change.
 *
 * And the GPU job a demo buyer asks for: the same seed, place and palette as the CPU job's, a
 * larger picture, bounded by a few seconds of GPU time (the program stops adding samples then).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../engine/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { jobRequestSchema, type JobRequest } from '../../protocol/index.js';
import { ensureLocalImage, findBuildOutput, linkedLibraries, readBuildOutput, RootfsBuilder, type LocalImage } from '../sandbox/local-image.js';
import type { TarEntry } from '../sandbox/tar-write.js';
import { demoSeedAndZoom } from './image.js';

export const DEMO_GPU_BINARY_NAME = 'render-cuda';
/** On the image: its value is the sha256 of its files and configuration. */
export const DEMO_GPU_IMAGE_LABEL = 'io.offshift.demo-gpu-job';
export const DEMO_GPU_IMAGE_REPO = 'offshift-demo-gpu-job';
/**
 * 36 tokens an hour: twice the CPU job's (an hour of a GPU is worth more than an hour of one
 * core), 0.01 token a second.
 */
export const DEMO_GPU_PRICE_PER_HOUR = 36n * 10n ** 18n;
/** The GPU time a demo GPU job is given: the program stops adding samples after it. */
export const DEMO_GPU_SECONDS = 4;
/** The picture: 1280×960 RGB, stored uncompressed, 3.7 MB (under the dashboard's 4 MiB for a picture). */
export const DEMO_GPU_WIDTH = 1280;
export const DEMO_GPU_HEIGHT = 960;
/**
 * Libraries libcuda.so.1 (the driver's, mounted by the NVIDIA runtime) needs besides libc and libm:
 * copied from beside the host's libc when there. ldd does not list them for the program on glibc
 * 2.34 and later, where they are stubs of libc.
 */
const DRIVER_COMPANIONS = ['libdl.so.2', 'libpthread.so.0', 'librt.so.1'];
/**
 * Where the NVIDIA runtime mounts the driver's libraries: /usr/lib64 in an image that is not
 * Debian-like (this one), /usr/lib/x86_64-linux-gnu in one that is. It updates the image's loader
 * cache too; the path is said again in the job's environment in case that cache is not there.
 */
const DRIVER_LIBRARY_PATH = '/usr/lib64:/usr/lib/x86_64-linux-gnu:/lib64:/lib/x86_64-linux-gnu';

/**
 * OFFSHIFT_DEMO_GPU_JOB_BINARY, else the build output (dist/demo-job/render-cuda) found from this
 * module's folder, else the packaged app's resources folder. Null when there is none.
 */
export function findDemoGpuBinary(env: NodeJS.ProcessEnv = process.env, from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  return findBuildOutput({
    override: env.OFFSHIFT_DEMO_GPU_JOB_BINARY,
    folder: 'demo-job',
    name: DEMO_GPU_BINARY_NAME,
    from,
    packaged: (resources) => path.join(resources, 'demo-job', DEMO_GPU_BINARY_NAME),
  });
}

export function demoGpuBinaryMissing(): AppError {
  return new AppError(
    'demo-gpu-job-missing',
    "The GPU demo job is not built (dist/demo-job/render-cuda is missing): run npm run build where the CUDA toolkit's nvcc is installed.",
  );
}

/**
 * The image's root filesystem: the program at /render-cuda, `libraries` (absolute host paths, kept
 * at the same paths), a passwd with nobody, and the folders a job uses.
 */
export function demoGpuRootfs(program: Buffer, libraries: readonly string[], read: (file: string) => Buffer = (f) => fs.readFileSync(fs.realpathSync(f))): TarEntry[] {
  const fsb = new RootfsBuilder();
  for (const d of ['etc', 'scratch', 'input', 'output', 'proc', 'sys', 'dev', 'usr/lib64']) fsb.dir(d);
  fsb.dir('tmp', 0o1777);
  fsb.file('etc/passwd', Buffer.from('root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/scratch:/sbin/nologin\n'), 0o644);
  fsb.file('etc/group', Buffer.from('root:x:0:\nnogroup:x:65534:\n'), 0o644);
  // For the ldconfig the NVIDIA runtime runs in the image (-f /etc/ld.so.conf): present, empty.
  fsb.file('etc/ld.so.conf', Buffer.alloc(0), 0o644);
  fsb.file(DEMO_GPU_BINARY_NAME, program);
  for (const lib of libraries) fsb.file(lib, read(lib));
  return fsb.entries;
}

/**
 * The program as a file other programs can open: in the packaged app a path inside app.asar is
 * readable by the app alone, and electron-builder's asarUnpack puts the file in app.asar.unpacked.
 */
export function onDisk(file: string): string {
  const marker = `app.asar${path.sep}`;
  if (!file.includes(marker)) return file;
  const unpacked = file.replace(marker, `app.asar.unpacked${path.sep}`);
  return fs.existsSync(unpacked) ? unpacked : file;
}

/** What the program links (ldd), and the libraries libcuda needs that are beside the host's libc. */
export function demoGpuLibraries(binary: string): string[] {
  const linked = linkedLibraries(onDisk(binary));
  const libc = linked.find((l) => path.basename(l) === 'libc.so.6');
  const companions = libc ? DRIVER_COMPANIONS.map((name) => path.join(path.dirname(libc), name)).filter((p) => fs.existsSync(p)) : [];
  return [...linked, ...companions.filter((c) => !linked.includes(c))];
}

export interface EnsureDemoGpuImageOptions {
  /** The program; default: findDemoGpuBinary(env). */
  binaryPath?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/** The GPU demo image's id, made first when no image holds these files. */
export async function ensureDemoGpuImage(docker: Engine, opts: EnsureDemoGpuImageOptions = {}): Promise<LocalImage> {
  const binaryPath = opts.binaryPath ?? findDemoGpuBinary(opts.env ?? process.env);
  const program = readBuildOutput(binaryPath, demoGpuBinaryMissing);
  let libraries: string[];
  try {
    libraries = demoGpuLibraries(binaryPath!);
  } catch (error) {
    throw new AppError('demo-gpu-image-build-failed', `The GPU demo job's image could not be made: listing the C libraries it needs (ldd) failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const image = await ensureLocalImage(docker, {
    what: "the GPU demo job's image",
    repo: DEMO_GPU_IMAGE_REPO,
    label: DEMO_GPU_IMAGE_LABEL,
    files: demoGpuRootfs(program, libraries),
    user: '65534:65534',
    entrypoint: [`/${DEMO_GPU_BINARY_NAME}`],
    failureCode: 'demo-gpu-image-build-failed',
  });
  if (image.built) opts.log?.info('GPU demo image built', { imageId: image.imageId });
  return image;
}

/**
 * The `n`th demo job when it is a GPU job: one NVIDIA GPU, its picture and a small record (the
 * GPU's name, samples, seconds) written to /output; the seed and zoom vary with `n` as the CPU
 * job's do.
 */
export function demoGpuJobRequest(imageId: string, n: number, pricePerHour: bigint = DEMO_GPU_PRICE_PER_HOUR): JobRequest {
  const { seed, zoom } = demoSeedAndZoom(n);
  return jobRequestSchema.parse({
    image: imageId,
    pullFrom: null,
    command: [
      '--seed', String(seed),
      '--zoom', String(zoom),
      '--width', String(DEMO_GPU_WIDTH),
      '--height', String(DEMO_GPU_HEIGHT),
      '--seconds', String(DEMO_GPU_SECONDS),
      '--out', `/output/mandelbrot-gpu-${seed}.png`,
    ],
    env: { LD_LIBRARY_PATH: DRIVER_LIBRARY_PATH },
    gpus: 1,
    cpus: 1,
    // The CUDA driver maps much memory of its own at start.
    memoryMiB: 1024,
    diskMiB: 64,
    outputMiB: 8,
    maxDurationSeconds: 120,
    network: 'none',
    inputs: [],
    pricePerHour: pricePerHour.toString(),
    reportIntervalSeconds: 5,
  });
}
