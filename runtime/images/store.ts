/** The image store's records in SQLite: the images Offshift pulled, and its measured pulls. All image SQL is here. */
import type { Db } from '../storage/database.js';

export interface ImageRow {
  ref: string;
  digest: string;
  repository: string;
  image_id: string | null;
  size_bytes: number;
  compressed_bytes: number | null;
  pulled_at: number | null;
  last_used_at: number | null;
  jobs_run: number;
  pinned: number;
  pre_pulled: number;
}

export interface PullSample {
  at: number;
  bytes: number;
  seconds: number;
}

export class ImageStore {
  constructor(private readonly db: Db) {}

  all(): ImageRow[] {
    return this.db.prepare('SELECT * FROM images ORDER BY COALESCE(last_used_at, pulled_at, 0) DESC, ref').all() as ImageRow[];
  }

  get(ref: string): ImageRow | null {
    return (this.db.prepare('SELECT * FROM images WHERE ref = ?').get(ref) as ImageRow | undefined) ?? null;
  }

  /** A pull begins: the row exists from now on (an interrupted pull's layers are Offshift's too). */
  begin(ref: string, digest: string, repository: string, compressedBytes: number | null, prePulled: boolean): void {
    this.db
      .prepare(
        `INSERT INTO images (ref, digest, repository, compressed_bytes, pre_pulled) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(ref) DO UPDATE SET compressed_bytes = COALESCE(excluded.compressed_bytes, compressed_bytes)`,
      )
      .run(ref, digest, repository, compressedBytes, prePulled ? 1 : 0);
  }

  pulled(ref: string, imageId: string, sizeBytes: number, at: number): void {
    this.db.prepare('UPDATE images SET image_id = ?, size_bytes = ?, pulled_at = ? WHERE ref = ?').run(imageId, sizeBytes, at, ref);
  }

  /** A job started with the image. */
  used(ref: string, at: number): void {
    this.db.prepare('UPDATE images SET last_used_at = ?, jobs_run = jobs_run + 1, pre_pulled = 0 WHERE ref = ?').run(at, ref);
  }

  setPinned(ref: string, pinned: boolean): void {
    this.db.prepare('UPDATE images SET pinned = ? WHERE ref = ?').run(pinned ? 1 : 0, ref);
  }

  /** The image left the engine (removed by Offshift, or by someone else): its row goes. */
  remove(ref: string): void {
    this.db.prepare('DELETE FROM images WHERE ref = ?').run(ref);
  }

  /** The engine no longer has the image (someone removed it): keep the row's history, not its id. */
  gone(ref: string): void {
    this.db.prepare('UPDATE images SET image_id = NULL, size_bytes = 0 WHERE ref = ?').run(ref);
  }

  recordPull(ref: string, source: string, bytes: number, seconds: number, completed: boolean, at: number): void {
    this.db.prepare('INSERT INTO image_pulls (at, ref, source, bytes, seconds, completed) VALUES (?, ?, ?, ?, ?, ?)').run(at, ref, source, bytes, seconds, completed ? 1 : 0);
    this.db.prepare('DELETE FROM image_pulls WHERE id NOT IN (SELECT id FROM image_pulls ORDER BY id DESC LIMIT 200)').run();
  }

  /** The most recent pulls from one registry host that fetched enough to measure a rate. */
  recentPullsFrom(source: string, minBytes: number, limit: number): PullSample[] {
    return this.db.prepare('SELECT at, bytes, seconds FROM image_pulls WHERE source = ? AND bytes >= ? AND seconds > 0 ORDER BY id DESC LIMIT ?').all(source, minBytes, limit) as PullSample[];
  }

  /** The most recent pulls that fetched enough to measure a rate. */
  recentPulls(minBytes: number, limit: number): PullSample[] {
    return this.db.prepare('SELECT at, bytes, seconds FROM image_pulls WHERE bytes >= ? AND seconds > 0 ORDER BY id DESC LIMIT ?').all(minBytes, limit) as PullSample[];
  }
}
