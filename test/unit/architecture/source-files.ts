// The project's source files, as the architecture tests read them: every .ts/.tsx under the
// source folders (declarations excluded), as paths relative to the repository.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../../floors.config.js';

export const SOURCE_DIRS = ['runtime', 'protocol', 'buyer', 'market', 'main', 'preload', 'renderer/src'];

export function sourceFiles(dir: string): string[] {
  const abs = path.join(repoRoot, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(rel);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [rel] : [];
  });
}
