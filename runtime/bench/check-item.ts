/**
 * The GPU passthrough item of the system check: once `offshift bench run --in-container` has
 * run, whether the benchmark worked inside the job container and agreed with the host. Read
 * from the benchmark history without opening it for writing; nothing (null) before such a run,
 * and never a throw.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { CheckItem } from '../system/schema.js';
import { benchGpuResultSchema, type BenchGpuResult } from './schema.js';
import { passthroughItem } from './self-test.js';
import { benchDatabasePath } from './store.js';

export function benchPassthroughCheckItem(home: string): CheckItem | null {
  const file = benchDatabasePath(home);
  if (!fs.existsSync(file)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.prepare('SELECT gpu_key AS gpuKey, result FROM bench_results ORDER BY measured_at DESC, id DESC LIMIT 200').all() as { gpuKey: string; result: string }[];
    const byGpu = new Map<string, BenchGpuResult[]>();
    for (const row of rows) {
      const parsed = benchGpuResultSchema.safeParse(JSON.parse(row.result));
      if (parsed.success) byGpu.set(row.gpuKey, [...(byGpu.get(row.gpuKey) ?? []), parsed.data]);
    }
    const results = [...byGpu.values()];
    if (!results.some((rs) => rs.some((r) => r.inContainer))) return null;
    return passthroughItem(results);
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
