/**
 * Prepared statements kept per database and SQL text. Preparing costs more than running a small
 * query (profiled: at a burst of offers, preparing was the agent's largest cost), so the stores
 * that run the same statements at every offer or job change prepare each once.
 * A statement that changes its mode (`raw`, `pluck`, `safeIntegers`, `expand`) or is iterated
 * must not come from here: the next caller would get it in that mode.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const caches = new WeakMap<Db, Map<string, Statement<any, any>>>();

export function prepared<P extends unknown[] | object = unknown[], R = unknown>(db: Db, sql: string): Statement<P, R> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement as Statement<P, R>;
}
