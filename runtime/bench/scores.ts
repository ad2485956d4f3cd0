/**
 * The newest score of each GPU, for the marketplace to advertise. Cheap (one indexed query on
 * a read-only connection) and never throws: a missing history is [], a damaged one is [] and a
 * warning in the log.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { createLogger, type Logger } from '../log.js';
import { benchDatabasePath } from './store.js';

export interface LatestScore {
  gpuKey: string;
  score: number;
  measuredAt: number;
}

export async function latestScores(home: string, log: Logger = createLogger()): Promise<LatestScore[]> {
  const file = benchDatabasePath(home);
  if (!fs.existsSync(file)) return [];
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const rows = db
      .prepare(
        // SQLite takes a bare column (score) from the row that holds the MAX(): the newest scored run.
        `SELECT gpu_key AS gpuKey, score, MAX(measured_at) AS measuredAt FROM bench_results
         WHERE score IS NOT NULL GROUP BY gpu_key ORDER BY gpu_key`,
      )
      .all() as LatestScore[];
    return rows.filter((r) => typeof r.gpuKey === 'string' && Number.isFinite(r.score) && Number.isFinite(r.measuredAt));
  } catch (error) {
    log.warn('benchmark history unreadable; no scores to advertise', { file, error });
    return [];
  } finally {
    db?.close();
  }
}
