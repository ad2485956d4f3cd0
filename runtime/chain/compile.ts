/**
 * Compiles the project's Solidity contracts (resources/contracts) with npm `solc`, offline:
 * OpenZeppelin imports are resolved from node_modules through solc's import callback. The
 * artifacts (ABI + bytecode) are cached in a folder keyed by the hash of every source and of
 * the compiler version, so only the first run after a change pays for the compile, and no
 * generated file is ever committed.
 *
 * The build (`npm run build:contracts`) also writes them to dist/contracts/artifacts.json, so a
 * packaged app, which carries no solc and no OpenZeppelin sources, loads them from there.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';

const require = createRequire(import.meta.url);

export const CONTRACT_FILES = ['TestToken.sol', 'OffshiftEscrow.sol'] as const;

const artifactSchema = z.object({
  abi: z.array(z.unknown()),
  bytecode: z.string().regex(/^0x[0-9a-f]+$/),
});
const artifactsSchema = z.object({
  key: z.string(),
  compiler: z.string(),
  contracts: z.record(z.string(), artifactSchema),
});
export type Artifact = z.infer<typeof artifactSchema>;
export type Artifacts = z.infer<typeof artifactsSchema>;

/** The folder holding the .sol files: found by walking up from this module (source or bundle). */
export function contractsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OFFSHIFT_CONTRACTS_DIR) return path.resolve(env.OFFSHIFT_CONTRACTS_DIR);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'resources', 'contracts');
    if (fs.existsSync(path.join(candidate, 'OffshiftEscrow.sol'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new AppError('contracts-missing', 'Cannot find resources/contracts/OffshiftEscrow.sol beside this Offshift install. Set OFFSHIFT_CONTRACTS_DIR to the folder holding it.');
    }
    dir = parent;
  }
}

function solcVersion(): string {
  return (require('solc/package.json') as { version: string }).version;
}

function readSources(dir: string): Record<string, { content: string }> {
  const sources: Record<string, { content: string }> = {};
  for (const file of CONTRACT_FILES) sources[file] = { content: fs.readFileSync(path.join(dir, file), 'utf8') };
  return sources;
}

/** Imports like `@openzeppelin/contracts/...` resolve to node_modules. */
function findImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: fs.readFileSync(require.resolve(importPath), 'utf8') };
  } catch {
    return { error: `File not found: ${importPath}` };
  }
}

export function sourceKey(dir: string): string {
  const hash = crypto.createHash('sha256');
  hash.update(`solc ${solcVersion()}\n`);
  for (const [name, { content }] of Object.entries(readSources(dir))) hash.update(`${name}\n${content}\n`);
  return hash.digest('hex').slice(0, 24);
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OFFSHIFT_CONTRACTS_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.tmpdir()), 'offshift-contracts');
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

/** Compiles now, without the cache. */
export function compileContracts(dir = contractsDir()): Artifacts {
  const solc = require('solc') as { compile(input: string, callbacks: { import: typeof findImport }): string };
  const input = {
    language: 'Solidity',
    sources: readSources(dir),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new AppError('contracts-compile', `The contracts do not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const contracts: Record<string, Artifact> = {};
  for (const file of CONTRACT_FILES) {
    for (const [name, c] of Object.entries(output.contracts?.[file] ?? {})) {
      contracts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }
  return { key: sourceKey(dir), compiler: solcVersion(), contracts };
}

/** dist/contracts/artifacts.json, written by the build: found by walking up from this module. */
export const PREBUILT_ARTIFACTS = path.join('dist', 'contracts', 'artifacts.json');

export function prebuiltArtifactsFile(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, PREBUILT_ARTIFACTS);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function readPrebuilt(file: string | null): Artifacts | null {
  if (!file) return null;
  try {
    const parsed = artifactsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function solcInstalled(): boolean {
  try {
    solcVersion();
    return true;
  } catch {
    return false;
  }
}

/**
 * The artifacts for the current sources: from the cache when the sources are unchanged. Where
 * solc is not installed (a packaged app), the ones the build wrote (dist/contracts/artifacts.json).
 */
export function loadArtifacts(options: { dir?: string; cacheDir?: string; prebuilt?: string | null; solc?: boolean } = {}): Artifacts {
  if (!(options.solc ?? solcInstalled())) {
    const prebuilt = readPrebuilt(options.prebuilt === undefined ? prebuiltArtifactsFile() : options.prebuilt);
    if (prebuilt) return prebuilt;
    throw new AppError('contracts-missing', 'The compiled contracts are missing (dist/contracts/artifacts.json) and solc is not installed to compile them: run `npm ci && npm run build`.');
  }
  const dir = options.dir ?? contractsDir();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key = sourceKey(dir);
  const file = path.join(cacheDir, `artifacts-${key}.json`);
  if (fs.existsSync(file)) {
    const parsed = artifactsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (parsed.success && parsed.data.key === key) return parsed.data;
  }
  const artifacts = compileContracts(dir);
  writeFileAtomic(file, JSON.stringify(artifacts), 0o644);
  return artifacts;
}

export function artifact(artifacts: Artifacts, name: 'TestToken' | 'OffshiftEscrow'): Artifact {
  const a = artifacts.contracts[name];
  if (!a) throw new AppError('contracts-missing', `The compiled contracts lack ${name}.`);
  return a;
}
