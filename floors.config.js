// The floor plan of docs/architecture.md as data: which floor each folder is on, and the few
// imports that go up on purpose. eslint.config.js enforces it file by file (the `floors` rule
// below); test/unit/architecture/floors.test.ts checks the whole import graph, cycles included.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/** Lowest first. A path is a folder or a file, from the repository root, without extension. */
export const floors = [
  { name: 'ground', paths: ['runtime/errors', 'runtime/log', 'runtime/log-lines', 'runtime/version', 'runtime/time', 'runtime/storage'] },
  // What the parts agree on: the market protocol, the API contract and its typed event bus, and
  // every zod schema wherever it is filed (isContract). No I/O.
  { name: 'contracts', paths: ['protocol', 'runtime/api/contract', 'runtime/api/events'] },
  { name: 'adapters', paths: ['runtime/gpu', 'runtime/system', 'runtime/engine', 'runtime/sandbox', 'runtime/images', 'runtime/chain', 'runtime/policy', 'runtime/settings'] },
  {
    name: 'capabilities',
    paths: ['runtime/jobs', 'runtime/schedule', 'runtime/wallet', 'runtime/ledger', 'runtime/market', 'runtime/bench', 'runtime/metrics', 'runtime/desktop', 'runtime/check', 'market', 'buyer'],
  },
  { name: 'demo', paths: ['runtime/demo'] },
  { name: 'api', paths: ['runtime/api'] },
  { name: 'hosts', paths: ['runtime/agent', 'runtime/cli', 'runtime/service', 'main', 'preload', 'renderer'] },
];

/**
 * Contracts filed in a capability's folder: its `schema.ts` or `*-schema.ts`, the settings
 * sections, and the exact token formatting that ledger/schema.ts hands the renderer (and the
 * image sizes and pull words that images/schema.ts hands it).
 */
const contractFiles = ['runtime/settings/sections', 'runtime/sandbox/settings', 'runtime/market/settings', 'runtime/ledger/tokens', 'runtime/images/figures'];
export function isContract(file) {
  return /(^|\/)schema$|-schema$/.test(file) || contractFiles.includes(file);
}

/**
 * The imports that go up a floor on purpose, each with its reason (docs/architecture.md says
 * more). `from` and `to` are files without extension. None now: the market link's last three
 * (the agent's state, the demo network, the demo password) are declared on its side or handed in.
 */
export const upwardExceptions = [];

/**
 * The three parties meet only in protocol/: the reference market and the buyer never import
 * each other nor the provider's market code, and the provider's runtime runs the other two only
 * from the demo and the command line.
 */
const parties = [
  { room: 'market', others: ['runtime/market', 'buyer'], except: [] },
  { room: 'buyer', others: ['runtime/market', 'market'], except: [] },
  { room: 'runtime', others: ['market', 'buyer'], except: ['runtime/demo', 'runtime/cli'] },
];

const strip = (file) => file.replace(/\.(js|mjs|cjs|ts|tsx|d\.ts)$/, '');
const within = (file, entry) => file === entry || file.startsWith(entry + '/');

/** The floor index of a file (repo-relative, any extension), or -1 when it is on no floor (tests, tools). */
export function floorOf(file) {
  const f = strip(file);
  if (isContract(f)) return 1;
  return floors.findIndex((floor) => floor.paths.some((entry) => within(f, entry)));
}

/** Why importing `to` from `from` (both repo-relative) breaks the plan, or null when it does not. */
export function importProblem(from, to) {
  const [f, t] = [strip(from), strip(to)];
  const party = parties.find((p) => within(f, p.room) && !p.except.some((e) => within(f, e)));
  const other = party?.others.find((o) => within(t, o));
  if (other) return `${f} may not import ${t}: ${party.room}/ and ${other}/ are different parties, which meet only in protocol/ (docs/architecture.md).`;
  const [a, b] = [floorOf(f), floorOf(t)];
  if (a < 0 || b < 0 || b <= a) return null;
  if (upwardExceptions.some((e) => e.from === f && e.to === t)) return null;
  return `${f} (${floors[a].name}) may not import ${t} (${floors[b].name}): imports point down the floors (docs/architecture.md).`;
}

/** The ESLint rule: every relative import, resolved, checked by importProblem. */
const noUpwardImport = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const from = path.relative(repoRoot, context.filename);
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = path.relative(repoRoot, path.resolve(path.dirname(context.filename), spec));
      const problem = importProblem(from, to);
      if (problem) context.report({ node: node.source, message: problem });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export const floorsPlugin = { rules: { 'no-upward-import': noUpwardImport } };
