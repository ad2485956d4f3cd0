/**
 * The image store: the images Offshift pulled, kept within the owner's budget and above the
 * free-disk floor. It decides before a byte is pulled whether an image fits (removing least
 * recently used images no job needs), pulls by digest through the mirror when one is set,
 * shares one pull among the jobs that wait for it, prunes by watermarks, pre-pulls what the
 * market says is in demand, and says what it holds warm. The owner's own images are never
 * touched: only images it pulled get a record, and an image someone tagged is no longer Offshift's.
 */
import path from 'node:path';
import { AppError } from '../errors.js';
import { inspectImage, removeImage, type Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import type { AdvertisedImages, DemandedImage } from '../../protocol/index.js';
import { LOCAL_ID, MAX_ADVERTISED_IMAGES } from '../../protocol/index.js';
import { measuredRate, MIN_MEASURED_PULL_BYTES } from './download-rate.js';
import { EngineImages, type EnginePicture } from './engine-picture.js';
import { availableBytes, planWatermarkPrune, type DiskPicture, type EvictionCandidate } from './eviction.js';
import { imageNeed, judgeFit, type FitVerdict, type OfferClaims } from './fit.js';
import { candidatesOf, digestsOf, expansionOf, findImage, reconcile, recordView, usedBytes, warmDigests } from './records.js';
import { BlobCache } from './blob-cache.js';
import { pullVerified, RelayUnreachable, type PullOutcome, type PullTick } from './pull.js';
import { PullRelay } from './relay.js';
import { SharedPulls, type Inflight } from './shared-pulls.js';
import { PROBE_MIN_MISSING_BYTES, probeRate } from './source-probe.js';
import { parseImageRef, readManifest, type ImageRef, type ManifestFacts } from './registry.js';
import type { ImagePull, ImageSettings, ImagesView, PruneResult } from './schema.js';
import { ImageStore, type ImageRow } from './store.js';

const GIB = 1024 ** 3;
/** An accepted offer's room is held this long for its pull to begin (an offer is held 65 s at most). */
const OFFER_ROOM_MS = 70_000;
const MANIFEST_CACHE_MS = 10 * 60_000;
export const PRUNE_INTERVAL_MS = 10 * 60_000;

export interface ImageServiceOptions {
  /** The data folder: the blob cache is <home>/images/blobs. */
  home: string;
  db: Db;
  docker: Engine;
  log: Logger;
  settings: () => ImageSettings;
  /** Image refs of the jobs in hand (queued to stopping): never removed. */
  inUse: () => Iterable<string>;
  /** Whether a download may run now (the owner away, or allowed to pull while they use the computer). */
  mayDownload?: () => boolean;
  /** What the store holds or may hold changed (the market link advertises again). */
  onChange?: () => void;
  now?: () => number;
  pruneIntervalMs?: number;
  /** Pull through the local relay (resumable layers; default: on Linux, where the engine shares this machine's loopback). */
  relay?: boolean;
  /** A first pull from a source missing at least this many bytes measures it first (default PROBE_MIN_MISSING_BYTES; tests use small images). */
  probeMinMissingBytes?: number;
}

/** Faster than this (800 Mbit/s: a LAN or this machine), a source is pulled from directly (fastSource). */
export const FAST_SOURCE_BYTES_PER_S = 100e6;

/** Cached layers of pulls that never finished are dropped after this long without use. */
const STALE_BLOB_MS = 7 * 86_400_000;

export class ImageService {
  readonly store: ImageStore;
  private readonly engine: EngineImages;
  private readonly now: () => number;
  private readonly inflight: SharedPulls;
  /** Room promised to accepted offers whose pull has not begun: ref → bytes and until when. */
  private readonly promised = new Map<string, { bytes: number; until: number }>();
  private readonly manifests = new Map<string, { facts: ManifestFacts; at: number }>();
  private lastPrune: PruneResult | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private advertisedCache: AdvertisedImages = { digests: [], freeBudgetMiB: 0 };
  private problem: string | null = null;
  readonly cache: BlobCache;
  private readonly relay: PullRelay;
  private relayUsable: boolean;

  constructor(private readonly o: ImageServiceOptions) {
    this.store = new ImageStore(o.db);
    this.engine = new EngineImages(o.docker);
    this.now = o.now ?? Date.now;
    this.inflight = new SharedPulls(this.now);
    this.cache = new BlobCache(path.join(o.home, 'images', 'blobs'));
    this.relay = new PullRelay(this.cache);
    this.relayUsable = o.relay ?? process.platform === 'linux';
  }

  /** Reconciles with the engine and prunes (at start), then every PRUNE_INTERVAL_MS. */
  start(): void {
    const tick = () => void this.prune('watermark').catch((error: unknown) => this.o.log.warn('image prune failed', { error: (error as Error).message }));
    tick();
    this.timer = setInterval(tick, this.o.pruneIntervalMs ?? PRUNE_INTERVAL_MS);
    this.timer.unref?.();
  }

  /** Stops pruning and aborts every pull (their finished layers stay on the engine). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.inflight.abort('all');
    // Every step of a pull heeds its abort; a registry that never answers still cannot hold the stop past a few seconds.
    await Promise.race([Promise.allSettled(this.inflight.all().map((p) => p.promise)), new Promise((r) => setTimeout(r, 3000).unref())]);
    await this.relay.close();
  }

  // ── deciding ───────────────────────────────────────────────────────────

  /** Whether an offer's image fits, before anything is pulled; when it does, its room is held for the pull. */
  async checkOffer(ref: string, claims: OfferClaims): Promise<FitVerdict | { ok: true; warm: true } | { ok: false; reason: 'image-unreadable'; detail: string }> {
    if (LOCAL_ID.test(ref)) return { ok: true, warm: true };
    const image = parseImageRef(ref);
    let facts: ManifestFacts;
    try {
      facts = await this.manifest(image);
    } catch (error) {
      if (await this.onEngine(image)) return { ok: true, warm: true };
      return { ok: false, reason: 'image-unreadable', detail: `Declined: the image's manifest could not be read: ${(error as Error).message}` };
    }
    const picture = await this.picture();
    const verdict = this.judge(facts, claims, picture);
    if (verdict.ok && verdict.need.diskBytes > 0 && !this.inflight.has(image.ref)) this.promised.set(image.ref, { bytes: verdict.need.diskBytes, until: this.now() + OFFER_ROOM_MS });
    return verdict;
  }

  private judge(facts: ManifestFacts, claims: OfferClaims, picture: EnginePicture): FitVerdict {
    const need = imageNeed(facts, picture.layers, expansionOf(this.store.all()), (digest) => this.cache.heldBytes(digest));
    return judgeFit({ facts, need, claims, rate: this.downloadRate(), images: this.candidates(), disk: this.diskPicture(picture) });
  }

  // ── obtaining ──────────────────────────────────────────────────────────

  /**
   * The engine image id for a job's image: already here, or pulled now within the budget (room
   * made first), its progress reported. `signal`: the job no longer waits (it was stopped).
   */
  async obtain(ref: string, jobId: string, onTick: (tick: PullTick) => void, signal: AbortSignal): Promise<string> {
    const image = parseImageRef(ref);
    const present = await this.onEngine(image);
    if (present) {
      if (this.store.get(image.ref)) this.store.used(image.ref, this.now());
      return present;
    }
    const outcome = await this.inflight.wait(this.pull(image, jobId, false), onTick, signal, () => this.o.settings().pullWhileOwnerActive);
    this.store.used(image.ref, this.now());
    this.changed();
    return outcome.imageId;
  }

  /** One pull per image, however many wait for it; started with room made for it, or refused with the figures. */
  private pull(image: ImageRef, jobId: string | null, prePull: boolean): Inflight {
    return this.inflight.start(image.ref, jobId, (p) => this.runPull(image, p, prePull), () => this.changed());
  }

  private async runPull(image: ImageRef, p: Inflight, prePull: boolean): Promise<PullOutcome> {
    let facts = await this.manifest(image, p.controller.signal);
    const picture = await this.picture();
    this.promised.delete(image.ref);
    const verdict = this.judge(facts, {}, picture);
    if (!verdict.ok) throw new AppError(verdict.reason, verdict.detail.replace(/^Declined[^:]*: /, 'Not pulled: '));
    if (prePull && verdict.plan.remove.length > 0) throw new AppError('not-enough-disk', 'Not pre-pulled: it fits only by removing other images, and a pre-pull never removes any.');
    await this.removeAll(verdict.plan.remove, 'fit');
    p.diskBytes = verdict.need.diskBytes;
    this.store.begin(image.ref, image.digest, `${image.registry}/${image.repository}`, facts.compressedBytes, prePull);
    if (facts.mirrorProblem) this.o.log.warn('the registry mirror was not used', { ref: image.ref, problem: facts.mirrorProblem });
    let host = facts.source === 'mirror' ? facts.pullRef.slice(0, facts.pullRef.indexOf('/')) : image.registry;
    let viaRelay = this.relayUsable && !this.fastSource(host);
    if (viaRelay && !this.measured(host) && verdict.need.missingBytes >= (this.o.probeMinMissingBytes ?? PROBE_MIN_MISSING_BYTES)) viaRelay = !(await this.probedFast(image, facts, picture, p.controller.signal, host));
    this.o.log.info('pulling an image', { ref: image.ref, source: facts.source, missingBytes: verdict.need.missingBytes, via: viaRelay ? 'relay' : 'engine' });
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await pullVerified(this.o.docker, {
          image,
          facts,
          missingBytes: verdict.need.missingBytes,
          signal: p.controller.signal,
          now: this.now,
          relay: viaRelay ? { relay: this.relay, cache: this.cache } : null,
          onTick: (tick) => this.inflight.tick(p, tick),
        });
        this.store.pulled(image.ref, outcome.imageId, outcome.sizeBytes, this.now());
        this.store.recordPull(image.ref, host, outcome.fetchedBytes, outcome.downloadSeconds, true, this.now());
        this.o.log.info('image pulled', { ref: image.ref, source: outcome.source, via: outcome.via, fetchedBytes: outcome.fetchedBytes, seconds: outcome.seconds });
        return outcome;
      } catch (error) {
        if (error instanceof RelayUnreachable && attempt === 1) {
          this.relayUsable = false;
          viaRelay = false;
          this.o.log.warn('the engine cannot reach the local relay (it is not on this machine\'s loopback): pulling directly, without resumable layers', { error: error.message });
          continue;
        }
        const code = error instanceof AppError ? error.code : '';
        if (facts.source === 'mirror' && attempt === 1 && !p.controller.signal.aborted && (code === 'image-pull-failed' || code === 'image-digest-mismatch')) {
          // The mirror failed mid-pull or served other bytes: the image's own registry, still verified.
          this.o.log.warn('the registry mirror failed during the pull; pulling from the origin', { ref: image.ref, error: (error as Error).message });
          this.manifests.delete(image.ref);
          facts = await readManifest(image, { mirror: null, signal: p.controller.signal });
          host = image.registry;
          facts = { ...facts, mirrorProblem: `the mirror failed during the pull: ${(error as Error).message}` };
          continue;
        }
        const fetched = p.tick?.bytes ?? 0;
        this.store.recordPull(image.ref, host, fetched, (this.now() - started) / 1000, false, this.now());
        throw error;
      }
    }
  }

  // ── pruning, pinning ───────────────────────────────────────────────────

  /** Periodically: what the watermarks say. By hand: every image no job uses that is not pinned (`all`: pinned ones too). */
  async prune(trigger: PruneResult['trigger'], all = false): Promise<PruneResult> {
    const picture = await this.picture();
    const candidates = this.candidates();
    const refs = trigger === 'manual' ? candidates.filter((c) => !c.inUse && (all || !c.pinned)).map((c) => c.ref) : planWatermarkPrune(candidates, this.diskPicture(picture));
    this.dropCachedBlobs(trigger === 'manual' ? 0 : STALE_BLOB_MS);
    return this.removeAll(refs, trigger);
  }

  /** Layers left in the cache by pulls no longer in progress, untouched for `olderThanMs`. */
  private dropCachedBlobs(olderThanMs: number): void {
    if (this.inflight.all().length > 0) return;
    for (const e of this.cache.entries()) if (this.now() - e.modifiedAt >= olderThanMs) this.cache.remove(e.digest);
  }

  private async removeAll(refs: string[], trigger: PruneResult['trigger']): Promise<PruneResult> {
    const removed: PruneResult['removed'] = [];
    for (const ref of refs) {
      const row = this.store.get(ref);
      if (!row?.image_id) continue;
      try {
        await removeImage(this.o.docker, row.image_id);
        removed.push({ ref, sizeBytes: row.size_bytes });
        this.store.remove(ref);
      } catch (error) {
        this.o.log.warn('an image could not be removed', { ref, error: (error as Error).message });
      }
    }
    const result: PruneResult = { at: this.now(), trigger, removed, freedBytes: removed.reduce((s, r) => s + r.sizeBytes, 0) };
    if (removed.length) {
      this.lastPrune = result;
      this.o.log.info('images removed', { trigger, count: removed.length, freedBytes: result.freedBytes });
      this.changed();
    }
    return result;
  }

  /** Pins or unpins by ref, digest, or a unique prefix of the digest. */
  pin(query: string, pinned: boolean): ImageRow {
    const row = this.find(query);
    this.store.setPinned(row.ref, pinned);
    return this.store.get(row.ref)!;
  }

  find(query: string): ImageRow {
    return findImage(this.store.all(), query);
  }

  // ── demand ─────────────────────────────────────────────────────────────

  /** The market's demand list: pull the most requested images that fit the free budget, one at a time, while downloads may run. */
  async prePull(demand: readonly DemandedImage[]): Promise<void> {
    if (!this.o.settings().prePull || this.closed) return;
    for (const d of demand) {
      if (this.closed || !(this.o.mayDownload?.() ?? true)) return;
      let image: ImageRef;
      try {
        image = parseImageRef(d.image);
      } catch {
        continue;
      }
      if (this.inflight.has(image.ref) || (await this.onEngine(image))) continue;
      try {
        await this.pull(image, null, true).promise;
        this.o.log.info('pre-pulled an image the market wants', { ref: image.ref, requests: d.requests });
      } catch (error) {
        this.o.log.info('not pre-pulled', { ref: image.ref, why: (error as Error).message });
      }
    }
  }

  /** The owner's activity changed: pulls no job waits for (pre-pulls) stop when downloads may not run. */
  availabilityChanged(): void {
    if (!(this.o.mayDownload?.() ?? true)) this.inflight.abort('unwaited');
  }

  // ── what it says ───────────────────────────────────────────────────────

  settings(): ImageSettings {
    return this.o.settings();
  }

  /** What the advertisement carries (recomputed after each change). */
  advertised(): AdvertisedImages {
    return this.advertisedCache;
  }

  async view(): Promise<Omit<ImagesView, 'effective' | 'locked' | 'user'>> {
    let picture: EnginePicture | null = null;
    try {
      picture = await this.picture();
      this.problem = null;
    } catch (error) {
      this.problem = (error as Error).message;
    }
    const inUse = digestsOf(this.o.inUse());
    const warm = new Set(this.advertisedCache.digests);
    const images = this.store.all().map((r) => recordView(r, inUse, warm));
    const disk = picture ? this.diskPicture(picture) : { usedBytes: this.usedBytes(), budgetBytes: this.budgetBytes(), freeDiskBytes: null, minFreeBytes: this.minFreeBytes(), reservedBytes: 0 };
    const pulls: ImagePull[] = this.inflight.all().map((p) => ({
      ref: p.ref,
      jobId: p.jobId,
      bytes: p.tick?.bytes ?? 0,
      totalBytes: p.tick?.totalBytes ?? null,
      bytesPerSecond: p.tick?.bytesPerSecond ?? null,
      etaSeconds: p.tick?.etaSeconds ?? null,
      startedAt: p.startedAt,
    }));
    return {
      usage: {
        usedBytes: disk.usedBytes,
        budgetBytes: disk.budgetBytes,
        freeDiskBytes: disk.freeDiskBytes === null ? null : Math.max(0, Math.floor(disk.freeDiskBytes)),
        diskTotalBytes: picture?.disk?.totalBytes ?? null,
        minFreeBytes: disk.minFreeBytes,
        availableBytes: Math.floor(availableBytes(disk)),
      },
      images,
      pulls,
      downloadBytesPerSecond: this.downloadRate(),
      lastPrune: this.lastPrune,
      problem: this.problem,
    };
  }

  // ── pieces ─────────────────────────────────────────────────────────────

  private async manifest(image: ImageRef, signal?: AbortSignal): Promise<ManifestFacts> {
    const cached = this.manifests.get(image.ref);
    if (cached && this.now() - cached.at < MANIFEST_CACHE_MS) return cached.facts;
    const facts = await readManifest(image, { mirror: this.o.settings().registryMirror, signal });
    if (this.manifests.size >= 256) this.manifests.delete(this.manifests.keys().next().value!);
    this.manifests.set(image.ref, { facts, at: this.now() });
    return facts;
  }

  /** The engine's id for the image when it holds it: Offshift's (pulled through the relay, under the relay's name) or the owner's. */
  private async onEngine(image: ImageRef): Promise<string | null> {
    const row = this.store.get(image.ref);
    for (const name of [row?.image_id, image.ref]) {
      if (!name) continue;
      const info = await inspectImage(this.o.docker, name).catch(() => null);
      if (info && (info.RepoDigests ?? []).some((d) => d.endsWith(`@${image.digest}`))) return info.Id;
    }
    return null;
  }

  /** The engine now, with Offshift's records brought in line with it. */
  private async picture(): Promise<EnginePicture> {
    const picture = await this.engine.picture();
    for (const r of reconcile(this.store.all(), picture.images)) {
      if (r.action === 'gone') this.store.gone(r.ref);
      else if (r.action === 'resized') this.store.pulled(r.ref, r.imageId, r.sizeBytes, r.pulledAt ?? this.now());
      else {
        this.o.log.info('an image Offshift pulled was tagged by someone else; it is theirs now and Offshift no longer removes it', { ref: r.ref, tags: r.tags });
        this.store.remove(r.ref);
      }
    }
    this.refreshAdvertised(picture);
    return picture;
  }

  private candidates(): EvictionCandidate[] {
    return candidatesOf(this.store.all(), digestsOf(this.o.inUse()), this.inflight.refs());
  }

  private diskPicture(picture: EnginePicture): DiskPicture {
    const now = this.now();
    let reserved = 0;
    for (const [ref, room] of this.promised) {
      if (room.until < now || this.inflight.has(ref)) this.promised.delete(ref);
      else reserved += room.bytes;
    }
    for (const p of this.inflight.all()) reserved += p.diskBytes;
    return { usedBytes: this.usedBytes(), budgetBytes: this.budgetBytes(), freeDiskBytes: picture.disk?.freeBytes ?? null, minFreeBytes: this.minFreeBytes(), reservedBytes: reserved };
  }

  private usedBytes(): number {
    return usedBytes(this.store.all(), this.cache.totalBytes());
  }

  private budgetBytes(): number {
    return Math.floor(this.o.settings().budgetGiB * GIB);
  }

  private minFreeBytes(): number {
    return Math.floor(this.o.settings().minFreeGiB * GIB);
  }

  /**
   * A registry this machine downloads from faster than FAST_SOURCE_BYTES_PER_S (a LAN mirror, a
   * registry on this machine): there the engine pulls directly. Its own pull is faster than one
   * through the blob cache (which writes and hashes each layer once more), and a cut pull costs
   * little to fetch again. Slower sources go through the cache, where resuming matters.
   */
  private fastSource(host: string): boolean {
    return (measuredRate(this.store.recentPullsFrom(host, MIN_MEASURED_PULL_BYTES, 5)) ?? 0) >= FAST_SOURCE_BYTES_PER_S;
  }

  private measured(host: string): boolean {
    return measuredRate(this.store.recentPullsFrom(host, MIN_MEASURED_PULL_BYTES, 5)) !== null;
  }

  /**
   * Before the first large pull from a source: its rate, on the first bytes of the largest layer
   * the engine lacks (source-probe.ts). Fast: true, and those bytes leave the cache (the engine
   * fetches the layer itself); slow: they stay, and the pull through the cache resumes them.
   */
  private async probedFast(image: ImageRef, facts: ManifestFacts, picture: EnginePicture, signal: AbortSignal, host: string): Promise<boolean> {
    const lacking = facts.layers.filter((l) => !picture.layers.has(l.diffId) && !this.cache.has(l.digest));
    const largest = lacking.reduce<(typeof lacking)[number] | null>((best, l) => (best === null || l.sizeBytes > best.sizeBytes ? l : best), null);
    if (!largest) return false;
    const rate = await probeRate(this.cache, largest, facts.openBlob, signal, this.now);
    const fast = rate !== null && rate >= FAST_SOURCE_BYTES_PER_S;
    if (fast) this.cache.remove(largest.digest);
    this.o.log.info('measured a source before its first large pull', { ref: image.ref, host, bytesPerSecond: rate === null ? null : Math.round(rate), via: fast ? 'engine' : 'relay' });
    return fast;
  }

  downloadRate(): number | null {
    return measuredRate(this.store.recentPulls(MIN_MEASURED_PULL_BYTES, 5));
  }

  private refreshAdvertised(picture: EnginePicture): void {
    const digests = warmDigests(this.store.all(), new Set(picture.images.map((i) => i.id)), MAX_ADVERTISED_IMAGES);
    const next = { digests, freeBudgetMiB: Math.floor(availableBytes(this.diskPicture(picture)) / (1024 * 1024)) };
    if (JSON.stringify(next) !== JSON.stringify(this.advertisedCache)) {
      this.advertisedCache = next;
      this.o.onChange?.();
    }
  }

  private changed(): void {
    void this.picture().catch(() => {});
  }
}
