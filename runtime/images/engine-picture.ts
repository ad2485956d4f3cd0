/**
 * What the engine holds now, for the image store: its images (to reconcile Offshift's records
 * with them), the layers present (what a pull need not fetch) and its disk. Layers are read once
 * per image id: an image's layers never change.
 */
import { engineDataRoot, imageLayers, listEngineImages, type Engine, type EngineImage } from '../engine/index.js';
import { diskSpace, type DiskSpace } from './disk.js';

export interface EnginePicture {
  images: EngineImage[];
  /** Diff ids of every layer some image on the engine is made of. */
  layers: Set<string>;
  disk: DiskSpace | null;
}

export class EngineImages {
  private readonly layerCache = new Map<string, string[]>();
  private dataRoot: string | null | undefined;

  constructor(private readonly docker: Engine) {}

  async picture(): Promise<EnginePicture> {
    const images = await listEngineImages(this.docker);
    const layers = new Set<string>();
    for (const image of images) {
      let ids = this.layerCache.get(image.id);
      if (!ids) {
        ids = (await imageLayers(this.docker, image.id)) ?? [];
        this.layerCache.set(image.id, ids);
      }
      for (const id of ids) layers.add(id);
    }
    for (const id of this.layerCache.keys()) if (!images.some((i) => i.id === id)) this.layerCache.delete(id);
    if (this.dataRoot === undefined) this.dataRoot = await engineDataRoot(this.docker);
    return { images, layers, disk: await diskSpace(this.dataRoot) };
  }
}
