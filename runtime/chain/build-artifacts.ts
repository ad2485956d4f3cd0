/**
 * `npm run build:contracts`: compiles the Solidity contracts (through the source-keyed cache, so
 * an unchanged tree costs no compile) and writes dist/contracts/artifacts.json, which the
 * packaged app loads instead of carrying solc and the OpenZeppelin sources.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { loadArtifacts, PREBUILT_ARTIFACTS } from './compile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, PREBUILT_ARTIFACTS);
const artifacts = loadArtifacts({ dir: path.join(root, 'resources', 'contracts') });
writeFileAtomic(out, JSON.stringify(artifacts) + '\n', 0o644);
// Silent like the other build steps; say it only when asked.
if (process.env.OFFSHIFT_BUILD_VERBOSE === '1') process.stdout.write(`wrote ${path.relative(root, out)} (${Object.keys(artifacts.contracts).join(', ')}; solc ${artifacts.compiler})\n`);
