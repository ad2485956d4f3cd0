/** The `images.*` commands over the image store and its settings. */
import type { Handlers } from '../api/contract.js';
import { AppError } from '../errors.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { SettingsStore } from '../settings/store.js';
import type { ImageRecord, ImagesView } from './schema.js';
import type { ImageService } from './service.js';
import { checkImagesPatch, effectiveImages, imagesValue } from './settings.js';

export type ImageHandlers = Pick<Handlers, 'images.list' | 'images.prune' | 'images.pin' | 'images.settings'>;

export function createImageHandlers(images: ImageService, settings: { store: SettingsStore; policy: () => LoadedPolicy } | undefined): ImageHandlers {
  const view = async (): Promise<ImagesView> => {
    const e = settings ? effectiveImages(settings.store, settings.policy()) : null;
    const body = await images.view();
    return { effective: e ? imagesValue(e) : images.settings(), locked: e?.locked ?? [], user: settings?.store.section('images').patch ?? {}, ...body };
  };
  const record = async (ref: string): Promise<ImageRecord> => {
    const found = (await images.view()).images.find((i) => i.ref === ref);
    if (!found) throw new AppError('image-not-found', `No image of Offshift's is ${ref}.`);
    return found;
  };
  return {
    'images.list': view,
    'images.prune': async ({ all }) => images.prune('manual', all),
    'images.pin': async ({ ref, pinned }) => record(images.pin(ref, pinned).ref),
    'images.settings': async (patch) => {
      if (Object.keys(patch).length > 0) {
        if (!settings) throw new AppError('unavailable', 'This agent runs without a settings file, so the image budget cannot be changed here.');
        const policy = settings.policy();
        checkImagesPatch(patch, effectiveImages(settings.store, policy), policy);
        settings.store.update('images', patch);
        // A smaller budget applies at once, not at the next prune.
        await images.prune('budget');
      }
      return view();
    },
  };
}
