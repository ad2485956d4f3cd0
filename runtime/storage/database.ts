import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../api/errors.js';
import { migrations as allMigrations } from './migrations/index.js';

export type Db = Database.Database;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const DATABASE_FILE = 'offshift.db';

/**
 * Opens (creating if needed) the agent's one SQLite database in WAL mode and brings it up to
 * the newest migration, each in its own transaction. A database from a newer Offshift is
 * refused rather than damaged.
 */
export function openDatabase(file: string, migrations: Migration[] = allMigrations): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    throw new AppError(
      'database-unreadable',
      `Cannot open the database ${file}: ${(error as Error).message}. It may be corrupt; move it aside to start a fresh one (your wallet is not in it).`,
    );
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

export function migrate(db: Db, migrations: Migration[]): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migrations must be numbered 1, 2, 3…; found ${m.version} at position ${i + 1}.`);
  });
  const current = db.pragma('user_version', { simple: true }) as number;
  const newest = sorted.length;
  if (current > newest) {
    throw new AppError(
      'database-too-new',
      `The database was written by a newer Offshift (schema ${current}, this one knows ${newest}). Update Offshift.`,
    );
  }
  for (const m of sorted.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
