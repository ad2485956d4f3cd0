#!/usr/bin/env node
// Builds the CUDA benchmark (resources/bench/offshift-bench.cu) into dist/bench/offshift-bench
// when nvcc is present; says so in one line when it is not. Never fails the build: a failed
// compile is reported in one line (and the full compiler output when OFFSHIFT_BENCH_VERBOSE=1).
// Skips the compile when the binary is newer than its source and this script.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, isUpToDate } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const source = path.join(here, 'offshift-bench.cu');
const outDir = path.join(root, 'dist', 'bench');
const output = path.join(outDir, process.platform === 'win32' ? 'offshift-bench.exe' : 'offshift-bench');
// Real code for every architecture CUDA 13 compiles for (Turing to Blackwell), plus PTX of the
// newest so a later card can JIT it.
const ARCHS = ['75', '80', '86', '89', '90', '100', '120'];

function findNvcc() {
  // OFFSHIFT_NVCC names the compiler (an empty or missing path: build without it).
  if (process.env.OFFSHIFT_NVCC !== undefined) return fs.existsSync(process.env.OFFSHIFT_NVCC) ? process.env.OFFSHIFT_NVCC : undefined;
  const exe = process.platform === 'win32' ? 'nvcc.exe' : 'nvcc';
  return findExecutable([exe], [...(process.env.CUDA_HOME ? [path.join(process.env.CUDA_HOME, 'bin')] : []), '/usr/local/cuda/bin']) ?? undefined;
}

const nvcc = findNvcc();
if (!nvcc) {
  console.log('bench: nvcc not found, the CUDA benchmark is not built (NVIDIA cards fall back to the WebGPU benchmark).');
  process.exit(0);
}
if (isUpToDate(output, [source, fileURLToPath(import.meta.url), fileURLToPath(new URL('../build-native.mjs', import.meta.url))])) process.exit(0);

fs.mkdirSync(outDir, { recursive: true });
const args = ['-O3', '-std=c++17', '-cudart', 'static', '-o', `${output}.tmp`, source];
for (const a of ARCHS) args.push('-gencode', `arch=compute_${a},code=sm_${a}`);
args.push('-gencode', `arch=compute_${ARCHS.at(-1)},code=compute_${ARCHS.at(-1)}`);
const started = Date.now();
const result = spawnSync(nvcc, args, { encoding: 'utf8', timeout: 15 * 60_000 });
if (result.status !== 0) {
  const why = result.error ? result.error.message : (result.stderr || result.stdout || '').trim().split('\n').slice(-1)[0];
  console.log(`bench: nvcc (${nvcc}) could not build the CUDA benchmark: ${why}`);
  if (process.env.OFFSHIFT_BENCH_VERBOSE === '1') console.log(result.stderr);
  fs.rmSync(`${output}.tmp`, { force: true });
  process.exit(0);
}
fs.renameSync(`${output}.tmp`, output);
console.log(`bench: built ${path.relative(root, output)} with ${nvcc} in ${((Date.now() - started) / 1000).toFixed(0)} s (sm_${ARCHS.join(', sm_')}).`);
