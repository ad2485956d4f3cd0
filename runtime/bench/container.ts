/**
 * The benchmark inside the hardened job container, with the GPU passed through: the proof that
 * GPU passthrough works on this machine. The same program runs as a job through the same
 * JobRunner as marketplace jobs (no network, read-only root, no capabilities, non-root user),
 * from a local image made of the program and the host libraries it links (glibc, libstdc++;
 * the NVIDIA runtime adds the driver's libcuda), imported once per build of the program and of
 * those libraries (runtime/sandbox/local-image.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Engine } from '../engine/index.js';
import type { Gpu } from '../gpu/schema.js';
import type { JobRunner } from '../jobs/runner.js';
import { isFinalState, type Job } from '../jobs/schema.js';
import type { Logger } from '../log.js';
import { ensureLocalImage, linkedLibraries, RootfsBuilder } from '../sandbox/local-image.js';
import type { TarEntry } from '../sandbox/tar-write.js';
import { findBenchProgram, type ProgramRun } from './program.js';
import type { ContainerBench } from './service.js';

export const IMAGE_REPO = 'offshift-bench';
/** On the image: its value is the sha256 of its files (the program and the libraries it links). */
export const IMAGE_LABEL = 'io.offshift.bench-image';

/** The image's root filesystem: the program, the libraries it links, a passwd and the job's folders. */
function rootfs(program: string): TarEntry[] {
  const fsb = new RootfsBuilder();
  for (const d of ['etc', 'scratch', 'input', 'output', 'proc', 'sys', 'dev']) fsb.dir(d);
  fsb.dir('tmp', 0o1777);
  fsb.file('etc/passwd', Buffer.from('root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/scratch:/sbin/nologin\n'), 0o644);
  fsb.file('etc/group', Buffer.from('root:x:0:\nnogroup:x:65534:\n'), 0o644);
  fsb.file('offshift-bench', fs.readFileSync(program));
  for (const lib of linkedLibraries(program)) fsb.hostFile(lib);
  return fsb.entries;
}

/** The benchmark image for this build of the program and these host libraries (imported on first use), as sha256:… */
export async function benchImage(docker: Engine, program: string, log: Logger): Promise<string> {
  const image = await ensureLocalImage(docker, { what: 'the benchmark image', repo: IMAGE_REPO, label: IMAGE_LABEL, files: rootfs(program), failureCode: 'bench-image-failed' });
  if (image.built) log.info('benchmark image imported', { id: image.imageId });
  return image.imageId;
}

function waitForEnd(runner: JobRunner, id: string, timeoutMs: number): Promise<Job | null> {
  return new Promise((resolve) => {
    const done = (job: Job | null) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(job);
    };
    const unsubscribe = runner.onChange((job) => {
      if (job.id === id && isFinalState(job.state)) done(job);
    });
    const timer = setTimeout(() => done(null), timeoutMs);
    const now = runner.get(id);
    if (now && isFinalState(now.state)) done(now);
  });
}

export function createContainerBench(options: { runner: JobRunner; docker: Engine; env: NodeJS.ProcessEnv; log: Logger }): ContainerBench {
  return async (gpu: Gpu, args: string[], timeoutMs: number): Promise<ProgramRun> => {
    const failed = (why: string): ProgramRun => ({ code: null, stdout: '', stderr: '', timedOut: false, startError: why, pid: null });
    const program = findBenchProgram(options.env);
    if (!program) return failed('the CUDA benchmark program is not built (npm run build with nvcc)');
    if (!gpu.uuid) return failed('this GPU has no UUID to pass to the container');
    let image: string;
    try {
      image = await benchImage(options.docker, program, options.log);
    } catch (error) {
      return failed(`could not make the benchmark image: ${(error as Error).message}`);
    }
    let job: Job;
    try {
      job = await options.runner.submit({
        id: `bench-${crypto.randomUUID().slice(0, 8)}`,
        image,
        command: ['/offshift-bench', ...args],
        gpus: [gpu.uuid],
        cpus: 2,
        memoryMiB: 2048,
        timeoutSeconds: Math.ceil(timeoutMs / 1000),
      });
    } catch (error) {
      return failed((error as Error).message);
    }
    const end = await waitForEnd(options.runner, job.id, timeoutMs + 30_000);
    if (!end) return { ...failed(''), startError: null, timedOut: true };
    const text = options.runner.logs(job.id).text;
    const line = text.split('\n').find((l) => l.trimStart().startsWith('{"program":"offshift-bench"')) ?? '';
    if (end.state === 'timed-out') return { code: null, stdout: '', stderr: text.slice(-500), timedOut: true, startError: null, pid: null };
    if (!line) return failed(`the job container ended ${end.state}: ${end.reason}${end.detail ? ` (${end.detail})` : ''}`);
    return { code: end.exitCode, stdout: line, stderr: '', timedOut: false, startError: null, pid: null };
  };
}
