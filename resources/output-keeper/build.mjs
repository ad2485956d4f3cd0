#!/usr/bin/env node
// Builds the output keeper (resources/output-keeper/keeper.c) into dist/output-keeper/keeper with
// `cc -O2 -static`, when a C compiler is present and the binary is older than its source or this
// script. Without a compiler (or on failure) it says so in one line and succeeds: an agent that
// is not root then says why its jobs get no /output (runtime/sandbox/keeper-image.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, isUpToDate } from '../build-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const source = path.join(here, 'keeper.c');
const outDir = path.join(root, 'dist', 'output-keeper');
const output = path.join(outDir, 'keeper');

if (process.platform !== 'linux') {
  console.log(`output-keeper: not built on ${process.platform} (a static Linux binary, for Linux containers).`);
  process.exit(0);
}
const cc = findExecutable([process.env.CC, 'cc', 'gcc', 'clang']);
if (!cc) {
  console.log('output-keeper: no C compiler (cc, gcc or clang) found, the output keeper is not built; install one (apt-get install gcc) so that jobs of an agent not running as root get an /output.');
  process.exit(0);
}
if (isUpToDate(output, [source, fileURLToPath(import.meta.url), fileURLToPath(new URL('../build-native.mjs', import.meta.url))])) process.exit(0);

fs.mkdirSync(outDir, { recursive: true });
const result = spawnSync(cc, ['-O2', '-static', '-std=c99', '-Wall', '-s', '-o', `${output}.tmp`, source], { encoding: 'utf8', timeout: 120_000 });
if (result.status !== 0) {
  const text = (result.stderr || result.stdout || '').trim();
  const why = result.error ? result.error.message : text.split('\n').slice(-1)[0] || `exit ${result.status}`;
  const hint = /cannot find -lc/.test(text) ? " (static linking needs the C library's static archive: apt-get install libc6-dev)" : '';
  console.log(`output-keeper: ${cc} could not build the output keeper: ${why}${hint}`);
  fs.rmSync(`${output}.tmp`, { force: true });
  process.exit(0);
}
fs.renameSync(`${output}.tmp`, output);
console.log(`output-keeper: built ${path.relative(root, output)} with ${cc}.`);
