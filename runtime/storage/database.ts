import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../errors.js';
import { diskFullError, isDiskFull } from './disk-full.js';
import { migrations as allMigrations } from './migrations/index.js';
import type { Migration } from './migrations/migration.js';

export type Db = Database.Database;

export type { Migration };

export const DATABASE_FILE = 'offshift.db';

/**
 * Opens (creating if needed) the agent's one SQLite database in WAL mode and brings it up to
 * the newest migration, each in its own transaction. A database from a newer Offshift is
 * refused rather than damaged, and so is an empty file: SQLite would take 0 bytes for a new
 * database and the history it held would be gone without a word. "No file" is a new install.
 */
export function openDatabase(file: string, migrations: Migration[] = allMigrations): Db {
  // An in-memory database (tests, the reference market) has no file to check.
  const inMemory = file === ':memory:';
  if (!inMemory) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(file)) createDatabaseFile(file);
    else refuseEmpty(file);
  }
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: !inMemory });
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

/**
 * A new database is made beside its place and linked into it once its header is written, so
 * that the file under the database's name is never empty (an empty one is refused).
 */
function createDatabaseFile(file: string): void {
  const temp = `${file}.${process.pid}.creating`;
  // What a creation cut short left (by a process gone since): nothing of it was ever used.
  const base = path.basename(file);
  for (const f of fs.readdirSync(path.dirname(file))) {
    const pid = f.startsWith(`${base}.`) ? /^\.(\d+)\.creating(-wal|-shm|-journal)?$/.exec(f.slice(base.length))?.[1] : undefined;
    if (pid && (Number(pid) === process.pid || !alive(Number(pid)))) fs.rmSync(path.join(path.dirname(file), f), { force: true });
  }
  try {
    const db = new Database(temp);
    db.pragma('journal_mode = WAL'); // writes the header
    db.close();
    // A link never replaces a file: another process that made the database meanwhile keeps its own.
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // made by another process meanwhile: that one is the database
      } else if ((code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') && !fs.existsSync(file)) fs.renameSync(temp, file); // no hard links here
      else throw error;
    }
    fs.rmSync(temp, { force: true });
  } catch (error) {
    fs.rmSync(temp, { force: true });
    if (isDiskFull(error)) throw diskFullError();
    throw new AppError('database-unreadable', `Cannot create the database ${file}: ${(error as Error).message}.`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function refuseEmpty(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new AppError('database-unreadable', `Cannot open the database ${file}: ${(error as Error).message}.`);
  }
  if (!stat.isFile()) {
    throw new AppError('database-unreadable', `Cannot open the database ${file}: it is not a file${stat.isDirectory() ? ' but a folder' : ''}. Move it aside; Offshift then starts a fresh database (your wallet is not in it).`);
  }
  if (stat.size === 0) {
    throw new AppError(
      'database-unreadable',
      `The database ${file} is empty (0 bytes): the job and earnings history it held is not in it. It has been left untouched. Put back a backup if you have one; to start a fresh history, move the file aside (your wallet is not in it).`,
    );
  }
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
