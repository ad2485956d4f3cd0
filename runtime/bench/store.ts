/**
 * Benchmark history: its own SQLite file (bench.db in the data folder) so a benchmark never
 * waits on the jobs or ledger database, and a damaged history loses nothing else. One row a GPU
 * a run, with the machine, the driver, the time and the whole result as JSON.
 */
import os from 'node:os';
import path from 'node:path';
import type { Migration } from '../storage/database.js';
import { openDatabase, type Db } from '../storage/database.js';
import { benchGpuResultSchema, type BenchGpuResult, type BenchHistoryEntry } from './schema.js';

export const BENCH_DATABASE_FILE = 'bench.db';

export const benchMigrations: Migration[] = [
  {
    version: 1,
    name: 'bench-results',
    sql: `
      CREATE TABLE bench_results (
        id INTEGER PRIMARY KEY,
        gpu_key TEXT NOT NULL,
        measured_at INTEGER NOT NULL,
        machine TEXT NOT NULL,
        driver_version TEXT,
        backend TEXT NOT NULL,
        score REAL,
        result TEXT NOT NULL
      ) STRICT;
      CREATE INDEX bench_results_by_gpu ON bench_results(gpu_key, measured_at);
    `,
  },
  {
    version: 2,
    name: 'bench-scores-index',
    // latestScores reads only this index (no result rows): a few ms with 10,000 results.
    sql: `CREATE INDEX bench_results_scores ON bench_results(gpu_key, measured_at, score) WHERE score IS NOT NULL;`,
  },
];

export interface BenchStore {
  add(result: BenchGpuResult, driverVersion: string | null): number;
  /** Newest first. */
  history(options?: { gpuKey?: string; limit?: number }): BenchHistoryEntry[];
  /** The newest result with a score for this GPU (for "7% slower than last week"). */
  latestScored(gpuKey: string): BenchGpuResult | null;
  close(): void;
}

export function benchDatabasePath(home: string): string {
  return path.join(home, BENCH_DATABASE_FILE);
}

export function openBenchStore(home: string, machine: string = os.hostname()): BenchStore {
  const db: Db = openDatabase(benchDatabasePath(home), benchMigrations);
  const insert = db.prepare('INSERT INTO bench_results (gpu_key, measured_at, machine, driver_version, backend, score, result) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const rowToEntry = (row: { id: number; machine: string; driver_version: string | null; result: string }): BenchHistoryEntry | null => {
    try {
      const result = benchGpuResultSchema.safeParse(JSON.parse(row.result));
      return result.success ? { id: row.id, machine: row.machine, driverVersion: row.driver_version, result: result.data } : null;
    } catch {
      return null;
    }
  };
  return {
    add(result, driverVersion) {
      const info = insert.run(result.gpuKey, result.measuredAt, machine, driverVersion, result.backend, result.score, JSON.stringify(result));
      return Number(info.lastInsertRowid);
    },
    history({ gpuKey, limit = 200 } = {}) {
      const rows = (
        gpuKey
          ? db.prepare('SELECT id, machine, driver_version, result FROM bench_results WHERE gpu_key = ? ORDER BY measured_at DESC, id DESC LIMIT ?').all(gpuKey, limit)
          : db.prepare('SELECT id, machine, driver_version, result FROM bench_results ORDER BY measured_at DESC, id DESC LIMIT ?').all(limit)
      ) as { id: number; machine: string; driver_version: string | null; result: string }[];
      return rows.map(rowToEntry).filter((e): e is BenchHistoryEntry => e !== null);
    },
    latestScored(gpuKey) {
      const row = db.prepare('SELECT id, machine, driver_version, result FROM bench_results WHERE gpu_key = ? AND score IS NOT NULL ORDER BY measured_at DESC, id DESC LIMIT 1').get(gpuKey) as
        | { id: number; machine: string; driver_version: string | null; result: string }
        | undefined;
      return row ? (rowToEntry(row)?.result ?? null) : null;
    },
    close() {
      db.close();
    },
  };
}
