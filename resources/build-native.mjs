// What the build scripts of native programs share (resources/bench/build.mjs,
// resources/demo-job/build.mjs, resources/output-keeper/build.mjs): finding a compiler, skipping a
// compile that is up to date, and building a static C program.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The first of `names` (absolute, or looked up on PATH, then in `extraDirs`) that is executable; null if none. */
export function findExecutable(names, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const name of names.filter(Boolean)) {
    const candidates = path.isAbsolute(name) ? [name] : dirs.map((d) => path.join(d, name));
    for (const candidate of candidates) {
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

/** Whether `output` is newer than every one of `inputs` (a missing file counts as oldest). */
export function isUpToDate(output, inputs) {
  const mtime = (p) => {
    try {
      return fs.statSync(p).mtimeMs;
    } catch {
      return 0;
    }
  };
  return mtime(output) > Math.max(...inputs.map(mtime));
}

/**
 * Builds one C source into a static Linux binary with `cc -O2 -static` (resources/demo-job,
 * resources/output-keeper), when a C compiler is present and the binary is older than its source
 * or the build scripts. It never fails the build: off Linux, without a compiler, or when the
 * compile fails, it says so in one line (`label: …`, with what to install) and returns false.
 *   label: the line's prefix; what: the program in words ("the demo job"); why: what a missing
 *   program costs the user, said with the missing compiler; script: the calling build script.
 */
export function buildStaticC({ label, what, why, source, output, script, extraArgs = [], verbose = false }) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (process.platform !== 'linux') {
    console.log(`${label}: not built on ${process.platform} (${what} is a static Linux binary, for Linux containers).`);
    return false;
  }
  const cc = findExecutable([process.env.CC, 'cc', 'gcc', 'clang']);
  if (!cc) {
    console.log(`${label}: no C compiler (cc, gcc or clang) found, ${what} is not built; install one (apt-get install gcc) ${why}.`);
    return false;
  }
  if (isUpToDate(output, [source, script, fileURLToPath(import.meta.url)])) return true;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const result = spawnSync(cc, ['-O2', '-static', '-std=c99', '-Wall', '-o', `${output}.tmp`, source, ...extraArgs], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    const text = (result.stderr || result.stdout || '').trim();
    const lines = text.split('\n');
    const reason = result.error ? result.error.message : lines.find((l) => /\berror\b/.test(l)) || lines.at(-1) || `exit ${result.status}`;
    const hint = /cannot find -l(c|m)\b/.test(text) ? " (static linking needs the C library's static archive: apt-get install libc6-dev)" : '';
    console.log(`${label}: ${cc} could not build ${what}: ${reason}${hint}`);
    if (verbose) console.log(text);
    fs.rmSync(`${output}.tmp`, { force: true });
    return false;
  }
  fs.renameSync(`${output}.tmp`, output);
  console.log(`${label}: built ${path.relative(root, output)} with ${cc}.`);
  return true;
}
