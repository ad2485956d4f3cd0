/**
 * `npm run bench`: runs every test/bench/*.ts other than this one, in turn. A bench module
 * exports a default async function (or `main`); each prints its own figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const self = path.basename(fileURLToPath(import.meta.url));

const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== self && !f.endsWith('.d.ts'))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== bench: ${file} ===`);
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default?: unknown; main?: unknown };
    const run = typeof mod.default === 'function' ? mod.default : typeof mod.main === 'function' ? mod.main : null;
    if (!run) {
      console.log(`(skipped: ${file} exports neither a default function nor main)`);
      continue;
    }
    await (run as () => Promise<unknown>)();
    console.log(`=== ${file}: done in ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
  } catch (error) {
    failed += 1;
    console.error(`=== ${file}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)} ===`);
  }
}
if (failed > 0) process.exitCode = 1;
