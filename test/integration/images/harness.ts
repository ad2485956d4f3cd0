/** A real image store and runner on the real engine, over a fresh data folder, with settings a test can change. */
import fs from 'node:fs';
import path from 'node:path';
import { connectDocker, listEngineImages } from '../../../runtime/engine/index.js';
import { defaultImageSettings, type ImageSettings } from '../../../runtime/images/schema.js';
import { ImageService } from '../../../runtime/images/service.js';
import { JobRunner } from '../../../runtime/jobs/runner.js';
import { createLogger } from '../../../runtime/log.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { canPushRandomImages } from '../../helpers/random-image.js';
import { registryAvailable } from '../../helpers/registry.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage } from '../../helpers/test-images.js';

export const skipReason = canBuildTestImage() ?? registryAvailable() ?? canPushRandomImages();
if (skipReason) console.warn(`[images integration] skipped: ${skipReason}`);

export const GIB = 1024 ** 3;

export interface ImagesHarness {
  home: string;
  db: Db;
  docker: ReturnType<typeof connectDocker>;
  images: ImageService;
  runner: JobRunner;
  settings: ImageSettings;
  /** The store's log lines, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Offshift's disk use now, measured outside the store: the engine's images of these digests, and the blob cache's files. */
  measuredBytes(digests: readonly string[]): Promise<number>;
  cleanup(): Promise<void>;
}

export function makeImagesHarness(settings: Partial<ImageSettings> = {}, extra: { relay?: boolean; home?: string; probeMinMissingBytes?: number } = {}): ImagesHarness {
  // Over a given data folder: another agent on the same folder (a restart); it is the caller's to remove.
  const { home, cleanup } = extra.home ? { home: extra.home, cleanup: () => {} } : makeTempHome('offshift-images-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const docker = connectDocker();
  const current: ImageSettings = { ...defaultImageSettings, minFreeGiB: 0, ...settings };
  let runner: JobRunner | null = null;
  const logs: Array<Record<string, unknown>> = [];
  const write = (line: string) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
    if (process.env.IMAGES_TEST_LOG) process.stderr.write(line);
  };
  const images = new ImageService({ home, db, docker, log: createLogger(write, 'info'), settings: () => current, inUse: () => runner?.imagesInUse() ?? [], relay: extra.relay, probeMinMissingBytes: extra.probeMinMissingBytes });
  runner = new JobRunner({ db, docker, home, graceMs: 500, images, listGpus: async () => [] });
  return {
    home,
    db,
    docker,
    images,
    runner,
    settings: current,
    logs,
    async measuredBytes(digests) {
      const engine = await listEngineImages(docker);
      const onEngine = engine.filter((i) => i.repoDigests.some((d) => digests.some((digest) => d.endsWith(`@${digest}`)))).reduce((sum, i) => sum + i.sizeBytes, 0);
      const blobs = path.join(home, 'images', 'blobs');
      const cached = fs.existsSync(blobs) ? fs.readdirSync(blobs).reduce((sum, f) => sum + fs.statSync(path.join(blobs, f)).size, 0) : 0;
      return onEngine + cached;
    },
    async cleanup() {
      await runner!.close();
      await images.close();
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${runner!.agentInstance}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      for (const row of images.store.all()) if (row.image_id) await docker.getImage(row.image_id).remove({ force: true }).catch(() => {});
      db.close();
      cleanup();
    },
  };
}

/** Removes every engine image carrying one of these digests (so a test pulls for real). */
export async function removeFromEngine(docker: ReturnType<typeof connectDocker>, digests: readonly string[]): Promise<void> {
  for (const i of await listEngineImages(docker)) {
    if (i.repoDigests.some((d) => digests.some((digest) => d.endsWith(`@${digest}`)))) await docker.getImage(i.id).remove({ force: true }).catch(() => {});
  }
}
