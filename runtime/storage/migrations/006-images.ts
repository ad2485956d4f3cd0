import type { Migration } from './migration.js';

/**
 * The image store (issue 15): every image Offshift pulled, and every pull measured.
 *
 * - images: one row per image ref (repository@digest) Offshift pulled or began to pull. The
 *   owner's own images never get a row. `image_id` is NULL while the image is not on the engine
 *   (a pull cut short keeps its finished layers in the engine, not an image).
 * - image_pulls: what each pull fetched and how long it took, for the measured download rate
 *   (a `maxPullSeconds` offer is declined by it) and the on-disk / compressed ratio.
 */
export const images006: Migration = {
  version: 6,
  name: 'images',
  sql: `
    CREATE TABLE images (
      ref TEXT PRIMARY KEY,
      digest TEXT NOT NULL,
      repository TEXT NOT NULL,
      image_id TEXT,
      size_bytes INTEGER NOT NULL DEFAULT 0,
      compressed_bytes INTEGER,
      pulled_at INTEGER,
      last_used_at INTEGER,
      jobs_run INTEGER NOT NULL DEFAULT 0,
      pinned INTEGER NOT NULL DEFAULT 0,
      pre_pulled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX images_digest ON images (digest);
    CREATE TABLE image_pulls (
      id INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      ref TEXT NOT NULL,
      source TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      seconds REAL NOT NULL,
      completed INTEGER NOT NULL
    );
  `,
};
