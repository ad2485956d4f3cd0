/**
 * An image made on this machine from a few files (a program the build made, and what it needs),
 * with no registry and no Dockerfile: the files, as an in-memory tar, are imported through the
 * engine as the image's whole root filesystem (`POST /images/create?fromSrc=-`: one layer), its
 * user, entry point and a label set by the import's `changes`. The label's value is the sha256 of
 * the files and that configuration, so an image is made once per content, found again by it (also
 * by another agent process on the same engine), and made again when the files change or when it
 * was removed (docker image prune). Tagged `<repo>:<12 hex of that hash>` for `docker images`.
 *
 * Made this way: the output keeper's image (keeper-image.ts), the demo job's
 * (runtime/demo/image.ts), the benchmark's (runtime/bench/container.ts) and the firewall's
 * (egress/iptables-engine.ts).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { findImageByLabel, imageExists, importImage, type Engine } from '../engine/index.js';
import { AppError } from '../errors.js';
import { makeTar, type TarEntry } from './tar-write.js';

/** Bumped when the way an image is made changes, so that every label changes and each is made again. */
const FORMAT = 'offshift-local-image-v1';

export interface LocalImageRecipe {
  /** What it is, in messages: "the demo job's image". */
  what: string;
  /** The tag's repository: `<repo>:<12 hex>`. */
  repo: string;
  /** The label that holds the content hash: how a made image is found again. */
  label: string;
  /** The root filesystem: files, and folders (no data), by path relative to `/`. */
  files: readonly TarEntry[];
  /** The image's USER, e.g. `65534:65534`; none: the runner's choice. */
  user?: string;
  /** The image's ENTRYPOINT (exec form); none: the job's command alone. */
  entrypoint?: readonly string[];
  /** The AppError code when the engine does not make it. */
  failureCode: string;
}

/** An image of one static program at `/<name>`, its entry point, run as nobody (65534:65534), with nothing else. */
export function staticProgramRecipe(o: { what: string; repo: string; label: string; name: string; program: Buffer; failureCode: string }): LocalImageRecipe {
  const { name, program, ...rest } = o;
  return { ...rest, files: [{ name, data: program, mode: 0o755 }], user: '65534:65534', entrypoint: [`/${name}`] };
}

export interface LocalImage {
  /** The engine's local id, `sha256:<64 hex>`: what a job names. */
  imageId: string;
  /** True when this call made it; false when an image of the same content was there. */
  built: boolean;
}

/**
 * `override` (an environment variable's value: empty or not a file means none), else
 * `<folder>/<name>` under `dist/` or beside a folder at most three levels above `from` (runtime/x
 * in a checkout, dist/ or dist/chunks/ when bundled), else the packaged app's resources folder
 * (`packaged`). Null when there is none.
 */
export function findBuildOutput(o: { override: string | undefined; folder: string; name: string; from: string; packaged: (resources: string) => string }): string | null {
  if (o.override !== undefined) return o.override && isFile(o.override) ? o.override : null;
  const candidates: string[] = [];
  let dir = o.from;
  for (let i = 0; i < 4; i++) {
    candidates.push(path.join(dir, 'dist', o.folder, o.name), path.join(dir, o.folder, o.name));
    dir = path.dirname(dir);
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) candidates.push(o.packaged(resources));
  return candidates.find(isFile) ?? null;
}

/** Whether `p` is a regular file (links followed); false when it cannot be read. */
export function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The bytes of a program the build makes; `missing()` (which says how to build it) when there are none. */
export function readBuildOutput(file: string | null, missing: () => AppError): Buffer {
  if (!file) throw missing();
  try {
    return fs.readFileSync(file);
  } catch {
    throw missing();
  }
}

/** The label's value: the sha256 of the recipe's files and configuration. Pure. */
export function localImageHash(recipe: Pick<LocalImageRecipe, 'files' | 'user' | 'entrypoint'>): string {
  const h = crypto.createHash('sha256').update(JSON.stringify([FORMAT, recipe.user ?? null, recipe.entrypoint ?? null]));
  for (const f of recipe.files) {
    h.update(JSON.stringify([f.name, f.mode, f.data === undefined ? null : f.data.length]));
    if (f.data) h.update(f.data);
  }
  return h.digest('hex');
}

/** The made images, by content hash (a failure is not kept: the next call tries again). */
const made = new Map<string, Promise<string>>();

/** The image holding these files, made first when the engine has none. */
export async function ensureLocalImage(docker: Engine, recipe: LocalImageRecipe): Promise<LocalImage> {
  const hash = localImageHash(recipe);
  const known = made.get(hash);
  if (known) {
    const imageId = await known;
    if (await imageExists(docker, imageId)) return { imageId, built: false };
    // Removed from outside since (docker image prune), or another engine: make it again.
    if (made.get(hash) === known) made.delete(hash);
    return ensureLocalImage(docker, recipe);
  }
  let built = false;
  const work = (async () => {
    const existing = await findImageByLabel(docker, `${recipe.label}=${hash}`);
    if (existing) return existing;
    built = true;
    return importRecipe(docker, recipe, hash);
  })();
  made.set(hash, work);
  work.catch(() => {
    if (made.get(hash) === work) made.delete(hash);
  });
  return { imageId: await work, built };
}

function importRecipe(docker: Engine, recipe: LocalImageRecipe, hash: string): Promise<string> {
  const changes = [`LABEL ${recipe.label}=${hash}`];
  if (recipe.user) changes.push(`USER ${recipe.user}`);
  if (recipe.entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(recipe.entrypoint)}`);
  return importImage(docker, { tar: makeTar(recipe.files), repo: recipe.repo, tag: hash.slice(0, 12), changes, label: `${recipe.label}=${hash}`, failureCode: recipe.failureCode, what: recipe.what });
}

/** The shared libraries a binary loads (ldd), by absolute path, the loader included. */
export function linkedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8', timeout: 10_000 });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

/**
 * An image's root filesystem as tar entries, in order: each folder once, before what it holds.
 * `hostFile` copies a host file (links resolved) to a path in the image.
 */
export class RootfsBuilder {
  readonly entries: TarEntry[] = [];
  private readonly dirs = new Set<string>();
  private readonly files = new Set<string>();

  /** The folder and its parents (0755; `mode` for the folder itself). */
  dir(at: string, mode = 0o755): this {
    const parts = at.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (this.dirs.has(p)) continue;
      this.dirs.add(p);
      this.entries.push({ name: p, mode: i === parts.length ? mode : 0o755 });
    }
    return this;
  }

  /** A file at `at` (a path in the image; the first one given for a path is kept). */
  file(at: string, data: Buffer, mode = 0o755): this {
    const name = at.replace(/^\/+/, '');
    if (this.files.has(name)) return this;
    this.files.add(name);
    this.dir(path.posix.dirname(name));
    this.entries.push({ name, mode, data });
    return this;
  }

  hostFile(at: string, from: string = at): this {
    return this.file(at, fs.readFileSync(fs.realpathSync(from)));
  }
}
