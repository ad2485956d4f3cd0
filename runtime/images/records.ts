/**
 * What the image store's records say, pure: Offshift's disk use, the images a prune may weigh, the
 * expansion to expect of the next pull, the digests to advertise, an image found by what a person
 * types, and how the records are brought in line with what the engine holds.
 */
import { AppError } from '../errors.js';
import type { EngineImage } from '../engine/index.js';
import type { EvictionCandidate } from './eviction.js';
import { DEFAULT_EXPANSION } from './fit.js';
import type { ImageRecord } from './schema.js';
import type { ImageRow } from './store.js';

/** Offshift's images on the engine and its cached layers. */
export function usedBytes(rows: readonly ImageRow[], cachedBytes: number): number {
  return rows.reduce((sum, r) => sum + (r.image_id ? r.size_bytes : 0), 0) + cachedBytes;
}

/** The digests of image refs (`repo@sha256:…`); local ids and unpinned refs have none. */
export function digestsOf(refs: Iterable<string>): Set<string> {
  const digests = new Set<string>();
  for (const ref of refs) {
    const at = ref.indexOf('@sha256:');
    if (at >= 0) digests.add(ref.slice(at + 1));
  }
  return digests;
}

/** The images on the engine, as a prune weighs them: in use when a job uses the digest or a pull writes it. */
export function candidatesOf(rows: readonly ImageRow[], inUse: ReadonlySet<string>, pulling: ReadonlySet<string>): EvictionCandidate[] {
  return rows
    .filter((r) => r.image_id !== null)
    .map((r) => ({ ref: r.ref, sizeBytes: r.size_bytes, lastUsedAt: r.last_used_at ?? r.pulled_at ?? 0, pinned: r.pinned === 1, inUse: inUse.has(r.digest) || pulling.has(r.ref) }));
}

/** On disk / compressed, the largest of the ten most recent images (a safe guess for the next pull); DEFAULT_EXPANSION until one is measured. */
export function expansionOf(rows: readonly ImageRow[]): number {
  const ratios = rows
    .filter((r) => r.image_id && r.size_bytes > 0 && r.compressed_bytes && r.compressed_bytes > 0)
    .slice(0, 10)
    .map((r) => r.size_bytes / r.compressed_bytes!);
  return ratios.length ? Math.min(4, Math.max(1, ...ratios)) : DEFAULT_EXPANSION;
}

/** The digests held on the engine, most recently used first, at most `max`. */
export function warmDigests(rows: readonly ImageRow[], onEngine: ReadonlySet<string>, max: number): string[] {
  return [...new Set(rows.filter((r) => r.image_id && onEngine.has(r.image_id)).map((r) => r.digest))].slice(0, max);
}

/** The record a person means by a ref, a digest or a unique prefix of the digest. */
export function findImage(rows: readonly ImageRow[], query: string): ImageRow {
  const q = query.trim();
  const prefix = q.startsWith('sha256:') ? q : `sha256:${q}`;
  const hits = rows.filter((r) => r.ref === q || r.digest === q || r.digest.startsWith(prefix) || r.ref.endsWith(q));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new AppError('image-not-found', `No image of Offshift's matches "${q}". See them with: offshift images list (the owner's own images are not Offshift's to pin).`);
  throw new AppError('image-ambiguous', `"${q}" matches ${hits.length} images; give more of the digest.`);
}

export type Reconciliation = { ref: string; action: 'gone' } | { ref: string; action: 'owner-tagged'; tags: string[] } | { ref: string; action: 'resized'; imageId: string; sizeBytes: number; pulledAt: number | null };

/** What the engine's images say of the records: removed by someone, tagged by someone (theirs now), or resized. */
export function reconcile(rows: readonly ImageRow[], engine: readonly EngineImage[]): Reconciliation[] {
  const byId = new Map(engine.map((i) => [i.id, i]));
  return rows.flatMap((row): Reconciliation[] => {
    if (!row.image_id) return [];
    const image = byId.get(row.image_id);
    if (!image) return [{ ref: row.ref, action: 'gone' }];
    // Offshift pulls by digest, so a tag is somebody's name for it (docker tag, or a pull by tag).
    if (image.repoTags.length > 0) return [{ ref: row.ref, action: 'owner-tagged', tags: image.repoTags }];
    if (image.sizeBytes !== row.size_bytes) return [{ ref: row.ref, action: 'resized', imageId: row.image_id, sizeBytes: image.sizeBytes, pulledAt: row.pulled_at }];
    return [];
  });
}

/** A record as the API shows it. */
export function recordView(r: ImageRow, inUse: ReadonlySet<string>, warm: ReadonlySet<string>): ImageRecord {
  return {
    digest: r.digest,
    repository: r.repository,
    ref: r.ref,
    imageId: r.image_id,
    sizeBytes: r.size_bytes,
    compressedBytes: r.compressed_bytes,
    pulledAt: r.pulled_at,
    lastUsedAt: r.last_used_at,
    jobsRun: r.jobs_run,
    pinned: r.pinned === 1,
    inUse: inUse.has(r.digest),
    warm: r.image_id !== null && warm.has(r.digest),
    prePulled: r.pre_pulled === 1,
  };
}
