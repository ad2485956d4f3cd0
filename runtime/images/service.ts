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
import type { Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import type { AdvertisedImages, DemandedImage } from '../../protocol/index.js';
import { LOCAL_ID, MAX_ADVERTISED_IMAGES } from '../../protocol/index.js';
import { measuredRate, MIN_MEASURED_PULL_BYTES } from './download-rate.js';
import { EngineImages, type EnginePicture } from './engine-picture.js';
import { availableBytes, planWatermarkPrune, type EvictionCandidate } from './eviction.js';
import { imageNeed, judgeFit, type FitVerdict, type OfferClaims } from './fit.js';
import { imageOnEngine, reconcileRecords } from './engine-records.js';
import { imagesView } from './images-view.js';
import { ManifestCache } from './manifest-cache.js';
import { candidatesOf, digestsOf, expansionOf, findImage, recordView, warmDigests } from './records.js';
import { BlobCache } from './blob-cache.js';
import type { PullOutcome, PullTick } from './pull.js';
import { pullAttempts } from './pull-attempts.js';
import { PullRoute } from './pull-route.js';
import { prePullDemand } from './pre-pull.js';
import { PullRelay } from './relay.js';
import { dropCachedBlobs, removeImages } from './removal.js';
import { ImageRoom } from './room.js';
import { SharedPulls, type Inflight } from './shared-pulls.js';
import { parseImageRef, type ImageRef, type ManifestFacts } from './registry.js';
import type { ImageSettings, ImagesView, PruneResult } from './schema.js';
import { ImageStore, type ImageRow } from './store.js';

export { FAST_SOURCE_BYTES_PER_S } from './pull-route.js';

/** An accepted offer's room is held this long for its pull to begin (an offer is held 65 s at most). */
const OFFER_ROOM_MS = 70_000;
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

/** Cached layers of pulls that never finished are dropped after this long without use. */
const STALE_BLOB_MS = 7 * 86_400_000;

export class ImageService {
  readonly store: ImageStore;
  private readonly engine: EngineImages;
  private readonly now: () => number;
  private readonly inflight: SharedPulls;
  private lastPrune: PruneResult | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private advertisedCache: AdvertisedImages = { digests: [], freeBudgetMiB: 0 };
  private problem: string | null = null;
  readonly cache: BlobCache;
  private readonly relay: PullRelay;
  private readonly room: ImageRoom;
  private readonly manifests: ManifestCache;
  private readonly route: PullRoute;

  constructor(private readonly o: ImageServiceOptions) {
    this.store = new ImageStore(o.db);
    this.engine = new EngineImages(o.docker);
    this.now = o.now ?? Date.now;
    this.inflight = new SharedPulls(this.now);
    this.cache = new BlobCache(path.join(o.home, 'images', 'blobs'));
    this.relay = new PullRelay(this.cache);
    this.room = new ImageRoom({ store: this.store, cache: this.cache, inflight: this.inflight, settings: () => this.o.settings(), now: this.now });
    this.manifests = new ManifestCache(this.now, () => this.o.settings().registryMirror);
    this.route = new PullRoute(this.store, this.cache, this.now, o);
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
      facts = await this.manifests.read(image);
    } catch (error) {
      if (await this.onEngine(image)) return { ok: true, warm: true };
      return { ok: false, reason: 'image-unreadable', detail: `Declined: the image's manifest could not be read: ${(error as Error).message}` };
    }
    const picture = await this.picture();
    const verdict = this.judge(facts, claims, picture);
    if (verdict.ok && verdict.need.diskBytes > 0 && !this.inflight.has(image.ref)) this.room.promise(image.ref, verdict.need.diskBytes, this.now() + OFFER_ROOM_MS);
    return verdict;
  }

  private judge(facts: ManifestFacts, claims: OfferClaims, picture: EnginePicture): FitVerdict {
    const need = imageNeed(facts, picture.layers, expansionOf(this.store.all()), (digest) => this.cache.heldBytes(digest));
    return judgeFit({ facts, need, claims, rate: this.downloadRate(), images: this.candidates(), disk: this.room.picture(picture) });
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
    const facts = await this.manifests.read(image, p.controller.signal);
    const picture = await this.picture();
    this.room.release(image.ref);
    const verdict = this.judge(facts, {}, picture);
    if (!verdict.ok) throw new AppError(verdict.reason, verdict.detail.replace(/^Declined[^:]*: /, 'Not pulled: '));
    if (prePull && verdict.plan.remove.length > 0) throw new AppError('not-enough-disk', 'Not pre-pulled: it fits only by removing other images, and a pre-pull never removes any.');
    await this.removeAll(verdict.plan.remove, 'fit');
    p.diskBytes = verdict.need.diskBytes;
    this.store.begin(image.ref, image.digest, `${image.registry}/${image.repository}`, facts.compressedBytes, prePull);
    if (facts.mirrorProblem) this.o.log.warn('the registry mirror was not used', { ref: image.ref, problem: facts.mirrorProblem });
    const host = facts.source === 'mirror' ? facts.pullRef.slice(0, facts.pullRef.indexOf('/')) : image.registry;
    const missingBytes = verdict.need.missingBytes;
    const viaRelay = await this.route.viaRelay(image, facts, picture, missingBytes, p.controller.signal, host);
    this.o.log.info('pulling an image', { ref: image.ref, source: facts.source, missingBytes, via: viaRelay ? 'relay' : 'engine' });
    const { store, now, relay, cache, inflight, manifests, route } = this;
    return pullAttempts({ docker: this.o.docker, log: this.o.log, store, now, relay, cache, inflight, manifests, route }, image, p, { facts, host, viaRelay, missingBytes });
  }

  // ── pruning, pinning ───────────────────────────────────────────────────

  /** Periodically: what the watermarks say. By hand: every image no job uses that is not pinned (`all`: pinned ones too). */
  async prune(trigger: PruneResult['trigger'], all = false): Promise<PruneResult> {
    const picture = await this.picture();
    const candidates = this.candidates();
    const refs = trigger === 'manual' ? candidates.filter((c) => !c.inUse && (all || !c.pinned)).map((c) => c.ref) : planWatermarkPrune(candidates, this.room.picture(picture));
    dropCachedBlobs(this.cache, this.inflight, this.now, trigger === 'manual' ? 0 : STALE_BLOB_MS);
    return this.removeAll(refs, trigger);
  }

  private async removeAll(refs: string[], trigger: PruneResult['trigger']): Promise<PruneResult> {
    const result = await removeImages({ docker: this.o.docker, log: this.o.log, store: this.store, now: this.now }, refs, trigger);
    if (result.removed.length) {
      this.lastPrune = result;
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
    await prePullDemand(
      {
        log: this.o.log,
        enabled: () => this.o.settings().prePull,
        closed: () => this.closed,
        mayDownload: () => this.o.mayDownload?.() ?? true,
        inflight: this.inflight,
        onEngine: (image) => this.onEngine(image),
        pull: (image) => this.pull(image, null, true).promise,
      },
      demand,
    );
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
    const disk = picture ? this.room.picture(picture) : this.room.withoutEngine();
    return imagesView({ picture, disk, images, inflight: this.inflight.all(), downloadBytesPerSecond: this.downloadRate(), lastPrune: this.lastPrune, problem: this.problem });
  }

  // ── pieces ─────────────────────────────────────────────────────────────

  private onEngine(image: ImageRef): Promise<string | null> {
    return imageOnEngine(this.o.docker, this.store, image);
  }

  /** The engine now, with Offshift's records brought in line with it. */
  private async picture(): Promise<EnginePicture> {
    const picture = await this.engine.picture();
    reconcileRecords(this.store, this.o.log, this.now, picture.images);
    this.refreshAdvertised(picture);
    return picture;
  }

  private candidates(): EvictionCandidate[] {
    return candidatesOf(this.store.all(), digestsOf(this.o.inUse()), this.inflight.refs());
  }

  downloadRate(): number | null {
    return measuredRate(this.store.recentPulls(MIN_MEASURED_PULL_BYTES, 5));
  }

  private refreshAdvertised(picture: EnginePicture): void {
    const digests = warmDigests(this.store.all(), new Set(picture.images.map((i) => i.id)), MAX_ADVERTISED_IMAGES);
    const next = { digests, freeBudgetMiB: Math.floor(availableBytes(this.room.picture(picture)) / (1024 * 1024)) };
    if (JSON.stringify(next) !== JSON.stringify(this.advertisedCache)) {
      this.advertisedCache = next;
      this.o.onChange?.();
    }
  }

  private changed(): void {
    void this.picture().catch(() => {});
  }
}
