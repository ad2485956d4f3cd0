// One image pull through to its end: tried once more directly when the engine cannot reach the
// local relay, and once from the image's own registry when the mirror failed mid-pull. Every
// pull's bytes and time are recorded: the download rate and the sources' speeds come from them.
import { AppError } from '../errors.js';
import type { Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { BlobCache } from './blob-cache.js';
import type { ManifestCache } from './manifest-cache.js';
import { pullVerified, RelayUnreachable, type PullOutcome } from './pull.js';
import type { PullRoute } from './pull-route.js';
import { readManifest, type ImageRef, type ManifestFacts } from './registry.js';
import type { PullRelay } from './relay.js';
import type { Inflight, SharedPulls } from './shared-pulls.js';
import type { ImageStore } from './store.js';

export interface PullAttemptsContext {
  docker: Engine;
  log: Logger;
  store: ImageStore;
  now: () => number;
  relay: PullRelay;
  cache: BlobCache;
  inflight: SharedPulls;
  manifests: ManifestCache;
  route: PullRoute;
}

/** Where the pull starts from: the manifest read, the registry it comes from, and whether through the relay. */
export interface PullStart {
  facts: ManifestFacts;
  host: string;
  viaRelay: boolean;
  missingBytes: number;
}

export async function pullAttempts(ctx: PullAttemptsContext, image: ImageRef, p: Inflight, start: PullStart): Promise<PullOutcome> {
  let { facts, host, viaRelay } = start;
  const started = ctx.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await pullVerified(ctx.docker, {
        image,
        facts,
        missingBytes: start.missingBytes,
        signal: p.controller.signal,
        now: ctx.now,
        relay: viaRelay ? { relay: ctx.relay, cache: ctx.cache } : null,
        onTick: (tick) => ctx.inflight.tick(p, tick),
      });
      ctx.store.pulled(image.ref, outcome.imageId, outcome.sizeBytes, ctx.now());
      ctx.store.recordPull(image.ref, host, outcome.fetchedBytes, outcome.downloadSeconds, true, ctx.now());
      ctx.log.info('image pulled', { ref: image.ref, source: outcome.source, via: outcome.via, fetchedBytes: outcome.fetchedBytes, seconds: outcome.seconds });
      return outcome;
    } catch (error) {
      if (error instanceof RelayUnreachable && attempt === 1) {
        ctx.route.relayUnreachable();
        viaRelay = false;
        ctx.log.warn('the engine cannot reach the local relay (it is not on this machine\'s loopback): pulling directly, without resumable layers', { error: error.message });
        continue;
      }
      const code = error instanceof AppError ? error.code : '';
      if (facts.source === 'mirror' && attempt === 1 && !p.controller.signal.aborted && (code === 'image-pull-failed' || code === 'image-digest-mismatch')) {
        // The mirror failed mid-pull or served other bytes: the image's own registry, still verified.
        ctx.log.warn('the registry mirror failed during the pull; pulling from the origin', { ref: image.ref, error: (error as Error).message });
        ctx.manifests.delete(image.ref);
        facts = await readManifest(image, { mirror: null, signal: p.controller.signal });
        host = image.registry;
        facts = { ...facts, mirrorProblem: `the mirror failed during the pull: ${(error as Error).message}` };
        continue;
      }
      const fetched = p.tick?.bytes ?? 0;
      ctx.store.recordPull(image.ref, host, fetched, (ctx.now() - started) / 1000, false, ctx.now());
      throw error;
    }
  }
}
