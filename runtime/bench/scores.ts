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
        `SELECT gpu_key AS gpuKey, score, measured_at AS measuredAt FROM bench_results r
         WHERE score IS NOT NULL AND id = (
           SELECT id FROM bench_results WHERE gpu_key = r.gpu_key AND score IS NOT NULL ORDER BY measured_at DESC, id DESC LIMIT 1)
         ORDER BY gpu_key`,
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
