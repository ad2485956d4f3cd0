/**
 * The node_exporter textfile write (runtime/metrics/textfile.ts): another process reading the
 * file in a tight loop while it is rewritten hundreds of times, with sizes that change, never
 * sees a partial file; the file is 0644, no temp file is left, and the temp name is one
 * node_exporter does not read (*.prom only).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { render, type Family } from '../../../runtime/metrics/exposition.js';
import { writeTextfile } from '../../../runtime/metrics/textfile.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const dir = makeTempDir('offshift-textfile-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Version `v`: `lines` samples, then a last line that says how many came before it. */
function version(v: number, lines: number): string {
  const families: Family[] = [
    { name: 'offshift_test_sample', help: 'A sample.', type: 'gauge', samples: Array.from({ length: lines }, (_, i) => ({ labels: { i: String(i), v: String(v) }, value: i })) },
    { name: 'offshift_test_complete', help: 'The samples above.', type: 'gauge', samples: [{ labels: { v: String(v) }, value: lines }] },
  ];
  return render(families);
}

/** Reads `file` as fast as it can until `stop` exists; prints JSON: reads, partial reads (with the first one). */
const READER = `
const fs = require('node:fs');
const [file, stop] = process.argv.slice(1);
let reads = 0, partial = 0, missing = 0, first = null;
while (!fs.existsSync(stop)) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { if (e.code === 'ENOENT') { missing++; continue; } throw e; }
  reads++;
  const m = /^offshift_test_complete\\{v="(\\d+)"\\} (\\d+)\\n$/m.exec(text);
  const samples = (text.match(/^offshift_test_sample\\{/gm) || []).length;
  if (!m || !text.endsWith('\\n') || Number(m[2]) !== samples || !text.startsWith('# HELP offshift_test_sample')) { partial++; if (first === null) first = text.slice(-200); }
}
process.stdout.write(JSON.stringify({ reads, partial, missing, first }));
`;

describe('node_exporter textfile', () => {
  it('is always whole to a reader in another process while it is rewritten 400 times', async () => {
    const file = path.join(dir, 'offshift.prom');
    const stop = path.join(dir, 'stop');
    writeTextfile(file, version(0, 10));
    const reader = spawn(process.execPath, ['-e', READER, file, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    reader.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Let the reader start, then rewrite with sizes from ~1 KB to ~500 KB (several write() calls each).
    await new Promise((r) => setTimeout(r, 300));
    for (let v = 1; v <= 400; v++) {
      writeTextfile(file, version(v, v % 2 === 0 ? 10 : 2000 + (v % 7) * 1000));
      if (v % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(stop, '');
    const code = await new Promise<number | null>((r) => reader.once('exit', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as { reads: number; partial: number; missing: number; first: string | null };
    expect(result.reads).toBeGreaterThan(50);
    expect(result).toMatchObject({ partial: 0, missing: 0, first: null });
  }, 60_000);

  it('is 0644, leaves no temp file, and writes its temp file under a name node_exporter skips', () => {
    const sub = makeTempDir('offshift-textfile-mode-');
    const file = path.join(sub, 'offshift.prom');
    const renames: string[] = [];
    const rename = fs.renameSync;
    const spy = (from: fs.PathLike, to: fs.PathLike) => {
      renames.push(path.basename(String(from)));
      rename(from, to);
    };
    (fs as { renameSync: typeof fs.renameSync }).renameSync = spy;
    try {
      writeTextfile(file, version(1, 3));
    } finally {
      (fs as { renameSync: typeof fs.renameSync }).renameSync = rename;
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(fs.readdirSync(sub)).toEqual(['offshift.prom']);
    expect(renames).toHaveLength(1);
    expect(renames[0]).toMatch(/^\./);
    expect(renames[0]).not.toMatch(/\.prom$/);
    // A second write replaces the file whole (a shorter text leaves no tail of the longer one).
    writeTextfile(file, version(2, 1));
    expect(fs.readFileSync(file, 'utf8')).toBe(version(2, 1));
    fs.rmSync(sub, { recursive: true, force: true });
  });

  it('throws where the folder is missing, and leaves nothing behind', () => {
    const file = path.join(dir, 'no-such-folder', 'offshift.prom');
    expect(() => writeTextfile(file, version(1, 1))).toThrow(/ENOENT/);
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  });
});
