/** A job's /output as protocol chunks: regular files only (no links followed), in order, capped in size. */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { MAX_OUTPUT_BYTES, OUTPUT_CHUNK_BYTES } from '../../protocol/index.js';

export function* readOutputChunks(dir: string, jobId: string): Generator<{ jobId: string; path: string; index: number; last: boolean; sha256: string | null; data: string }> {
  let total = 0;
  const walk = function* (rel: string): Generator<string> {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) yield* walk(r);
      else if (e.isFile() && /^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/.test(r)) yield r;
    }
  };
  for (const rel of walk('')) {
    let data: Buffer;
    try {
      const st = fs.lstatSync(path.join(dir, rel));
      if (!st.isFile() || total + st.size > MAX_OUTPUT_BYTES) continue;
      data = fs.readFileSync(path.join(dir, rel));
    } catch {
      continue;
    }
    total += data.length;
    const sha256 = crypto.createHash('sha256').update(data).digest('hex');
    const count = Math.max(1, Math.ceil(data.length / OUTPUT_CHUNK_BYTES));
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      yield { jobId, path: rel, index: i, last, sha256: last ? sha256 : null, data: data.subarray(i * OUTPUT_CHUNK_BYTES, (i + 1) * OUTPUT_CHUNK_BYTES).toString('base64') };
    }
  }
}
