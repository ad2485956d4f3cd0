// The manifests the image store read lately, by ref: an offer's check and the pull that follows
// read the registry once. Kept ten minutes, 256 at most (the oldest dropped first).
import { readManifest, type ImageRef, type ManifestFacts } from './registry.js';
import type { ImageSettings } from './schema.js';

const MANIFEST_CACHE_MS = 10 * 60_000;

export class ManifestCache {
  private readonly manifests = new Map<string, { facts: ManifestFacts; at: number }>();

  constructor(
    private readonly now: () => number,
    private readonly mirror: () => ImageSettings['registryMirror'],
  ) {}

  async read(image: ImageRef, signal?: AbortSignal): Promise<ManifestFacts> {
    const cached = this.manifests.get(image.ref);
    if (cached && this.now() - cached.at < MANIFEST_CACHE_MS) return cached.facts;
    const facts = await readManifest(image, { mirror: this.mirror(), signal });
    if (this.manifests.size >= 256) this.manifests.delete(this.manifests.keys().next().value!);
    this.manifests.set(image.ref, { facts, at: this.now() });
    return facts;
  }

  delete(ref: string): void {
    this.manifests.delete(ref);
  }
}
