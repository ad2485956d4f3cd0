#!/usr/bin/env node
// Builds the demo job's renderer (resources/demo-job/render.c) into dist/demo-job/render with
// `cc -O2 -static`, when a C compiler is present and the binary is older than its source or this
// script. Without a compiler it says so in one line and succeeds: the agent then says why the
// demo cannot run (runtime/demo/image.ts). A failed compile is one line too (the compiler's
// output in full with OFFSHIFT_DEMO_VERBOSE=1); it never fails the build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, isUpToDate } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const source = path.join(here, 'render.c');
const outDir = path.join(root, 'dist', 'demo-job');
const output = path.join(outDir, 'render');

function findCompiler() {
  return findExecutable([process.env.CC, 'cc', 'gcc', 'clang']);
}

if (process.platform !== 'linux') {
  console.log(`demo-job: not built on ${process.platform} (the demo job is a static Linux binary; the demo network needs Linux containers).`);
  process.exit(0);
}
const cc = findCompiler();
if (!cc) {
  console.log('demo-job: no C compiler (cc, gcc or clang) found, the demo job is not built; install one (apt-get install gcc) to run the demo network.');
  process.exit(0);
}
if (isUpToDate(output, [source, fileURLToPath(import.meta.url), fileURLToPath(new URL('../build-native.mjs', import.meta.url))])) process.exit(0);

fs.mkdirSync(outDir, { recursive: true });
const args = ['-O2', '-static', '-std=c99', '-Wall', '-o', `${output}.tmp`, source, '-lm'];
const result = spawnSync(cc, args, { encoding: 'utf8', timeout: 120_000 });
if (result.status !== 0) {
  const text = (result.stderr || result.stdout || '').trim();
  const why = result.error ? result.error.message : text.split('\n').slice(-1)[0] || `exit ${result.status}`;
  const hint = /cannot find -lc|-lm/.test(text) ? ' (static linking needs the C library\'s static archive: apt-get install libc6-dev)' : '';
  console.log(`demo-job: ${cc} could not build the demo job: ${why}${hint}`);
  if (process.env.OFFSHIFT_DEMO_VERBOSE === '1') console.log(text);
  fs.rmSync(`${output}.tmp`, { force: true });
  process.exit(0);
}
fs.renameSync(`${output}.tmp`, output);
console.log(`demo-job: built ${path.relative(root, output)} with ${cc}.`);
