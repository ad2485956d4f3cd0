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

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const source = path.join(here, 'render.c');
const outDir = path.join(root, 'dist', 'demo-job');
const output = path.join(outDir, 'render');

function findCompiler() {
  const names = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    if (path.isAbsolute(name)) return name;
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // next
      }
    }
  }
  return null;
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
const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};
if (mtime(output) > Math.max(mtime(source), mtime(fileURLToPath(import.meta.url)))) process.exit(0);

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
