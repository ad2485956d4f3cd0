/**
 * The job's output files as the provider relays them: chunks taken in order, each file's size
 * bounded and its sha256 checked, written under the output folder with no path escapes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_OUTPUT_BYTES, MAX_OUTPUT_FILES, type ToBuyerMessage } from '../protocol/index.js';
import type { IncomingFile, JobTracker } from './job-tracker.js';
import type { BuyerEvent } from './types.js';

type OutputChunk = Extract<ToBuyerMessage, { type: 'output' }>['chunk'];

/** Joins a relative output path under `dir`, refusing escapes and symbolic links on the way. */
export function safeOutputPath(dir: string, rel: string): string {
  const root = path.resolve(dir);
  const target = path.resolve(root, rel);
  if (path.isAbsolute(rel) || !target.startsWith(root + path.sep)) throw new Error(`"${rel}" leaves the output folder`);
  let at = root;
  for (const part of path.relative(root, target).split(path.sep)) {
    at = path.join(at, part);
    try {
      if (fs.lstatSync(at).isSymbolicLink()) throw new Error(`"${rel}" goes through a symbolic link`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
  return target;
}

/** Takes one output chunk of job `t`; a whole file is checked and written on its last chunk. */
export function receiveOutputChunk(t: JobTracker, chunk: OutputChunk, emit: (event: BuyerEvent) => void): void {
  const dir = t.options.outputDir ?? null;
  const refuse = (reason: string) => {
    const f = t.files.get(chunk.path);
    if (f?.refused) return;
    t.files.set(chunk.path, { chunks: [], next: 0, bytes: 0, refused: true });
    emit({ type: 'output-refused', jobId: t.jobId, path: chunk.path, reason });
  };
  if (dir === null) return refuse('no output folder was given');
  const file = fileFor(t, chunk.path, emit);
  if (!file || file.refused) return;
  if (chunk.index !== file.next) return refuse(`chunk ${chunk.index} came where chunk ${file.next} was expected`);
  const data = Buffer.from(chunk.data, 'base64');
  t.outputBytes += data.length;
  if (t.outputBytes > Math.min(MAX_OUTPUT_BYTES, t.job.outputMiB * 1024 * 1024)) return refuse('the output is larger than the job allows');
  file.chunks.push(data);
  file.bytes += data.length;
  file.next += 1;
  if (!chunk.last) return;
  const whole = Buffer.concat(file.chunks);
  file.chunks = [];
  const sha256 = crypto.createHash('sha256').update(whole).digest('hex');
  if (chunk.sha256 !== sha256) return refuse(`its sha256 is ${sha256}, not the announced ${chunk.sha256 ?? 'none'}`);
  let target: string;
  try {
    target = safeOutputPath(dir, chunk.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, whole);
  } catch (error) {
    return refuse((error as Error).message);
  }
  t.outputs.push({ path: chunk.path, file: target, bytes: whole.length, sha256 });
  emit({ type: 'output', jobId: t.jobId, path: chunk.path, file: target, bytes: whole.length });
}

/** The file a chunk belongs to, begun when new; null past MAX_OUTPUT_FILES (told once). */
function fileFor(t: JobTracker, rel: string, emit: (event: BuyerEvent) => void): IncomingFile | null {
  let file = t.files.get(rel);
  if (file) return file;
  // Every path the provider names is counted, written or refused: empty files cost no bytes.
  if (t.files.size >= MAX_OUTPUT_FILES) {
    if (!t.tooManyFiles) emit({ type: 'output-refused', jobId: t.jobId, path: rel, reason: `the provider sent more than ${MAX_OUTPUT_FILES} files; a job writes at most ${MAX_OUTPUT_FILES}, the rest are dropped` });
    t.tooManyFiles = true;
    return null;
  }
  t.files.set(rel, (file = { chunks: [], next: 0, bytes: 0, refused: false }));
  return file;
}
