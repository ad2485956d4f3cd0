#!/usr/bin/env node
// Builds the demo's GPU job (resources/demo-gpu-job/render-cuda.cu, a CUDA build of the demo
// renderer) into dist/demo-job/render-cuda, with nvcc and the CUDA runtime linked statically
// (`-cudart static`: the program needs only the NVIDIA driver, and the C libraries that
// runtime/demo/gpu-image.ts copies into its image). Like the benchmark's build it never fails the
// build: without nvcc (OFFSHIFT_NVCC names one; an empty value builds without), off Linux, or when
// the compile fails, it says so in one line and the demo buyer sends CPU jobs only, saying why.
// The compiler's output in full with OFFSHIFT_DEMO_VERBOSE=1. Skips a compile that is up to date.
// libstdc++ and libgcc are linked statically where the compiler has their archives (the image then
// needs only the C library and the loader); elsewhere dynamically, and the image carries them.
// `--out FILE` builds there instead (the tests), always compiling.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, isUpToDate } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const source = path.join(here, 'render-cuda.cu');
const outFlag = process.argv.indexOf('--out');
const output = outFlag > 0 && process.argv[outFlag + 1] ? path.resolve(process.argv[outFlag + 1]) : path.join(root, 'dist', 'demo-job', 'render-cuda');
// Real code for every architecture CUDA 13 compiles for (Turing to Blackwell), plus PTX of the
// newest so a later card can JIT it: the benchmark's list (resources/bench/build.mjs).
const ARCHS = ['75', '80', '86', '89', '90', '100', '120'];

function findNvcc() {
  if (process.env.OFFSHIFT_NVCC !== undefined) return process.env.OFFSHIFT_NVCC && fs.existsSync(process.env.OFFSHIFT_NVCC) ? process.env.OFFSHIFT_NVCC : undefined;
  return findExecutable(['nvcc'], [...(process.env.CUDA_HOME ? [path.join(process.env.CUDA_HOME, 'bin')] : []), '/usr/local/cuda/bin']) ?? undefined;
}

if (process.platform !== 'linux') {
  console.log(`demo-gpu-job: not built on ${process.platform} (the GPU demo job is a Linux program, for Linux containers).`);
  process.exit(0);
}
const nvcc = findNvcc();
if (!nvcc) {
  console.log('demo-gpu-job: nvcc not found, the GPU demo job is not built (the demo buyer sends CPU jobs only); install the CUDA toolkit to build it.');
  process.exit(0);
}
if (outFlag < 0 && isUpToDate(output, [source, fileURLToPath(import.meta.url), fileURLToPath(new URL('../build-native.mjs', import.meta.url))])) process.exit(0);

fs.mkdirSync(path.dirname(output), { recursive: true });
const args = ['-O3', '-std=c++17', '-cudart', 'static', '-o', `${output}.tmp`, source];
for (const a of ARCHS) args.push('-gencode', `arch=compute_${a},code=sm_${a}`);
args.push('-gencode', `arch=compute_${ARCHS.at(-1)},code=compute_${ARCHS.at(-1)}`);
const started = Date.now();
const compile = (extra) => spawnSync(nvcc, [...args, ...extra], { encoding: 'utf8', timeout: 15 * 60_000 });
let result = compile(['-Xcompiler', '-static-libstdc++,-static-libgcc']);
let linked = 'libstdc++ static';
if (result.status !== 0 && !result.error) {
  result = compile([]);
  linked = 'libstdc++ shared';
}
if (result.status !== 0) {
  const text = (result.stderr || result.stdout || '').trim();
  const why = result.error ? result.error.message : text.split('\n').find((l) => /\berror\b/.test(l)) || text.split('\n').at(-1) || `exit ${result.status}`;
  console.log(`demo-gpu-job: nvcc (${nvcc}) could not build the GPU demo job: ${why}`);
  if (process.env.OFFSHIFT_DEMO_VERBOSE === '1') console.log(text);
  fs.rmSync(`${output}.tmp`, { force: true });
  process.exit(0);
}
fs.renameSync(`${output}.tmp`, output);
console.log(`demo-gpu-job: built ${path.relative(root, output)} with ${nvcc} in ${((Date.now() - started) / 1000).toFixed(0)} s (sm_${ARCHS.join(', sm_')}; ${linked}).`);
