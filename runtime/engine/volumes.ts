/** The engine's volumes Offshift makes (a job's /output as a tmpfs volume): made, listed, removed. */
import type Docker from 'dockerode';
import type { Engine } from './connect.js';
import { engineUnreachable, isConflict, isNotFound } from './errors.js';

export type VolumeCreateOptions = Docker.VolumeCreateOptions;

export async function createVolume(docker: Engine, options: VolumeCreateOptions): Promise<void> {
  await docker.createVolume(options);
}

/** The volumes carrying all of `labels`, with their labels. */
export async function listVolumes(docker: Engine, labels: string[]): Promise<{ Name: string; Labels: Record<string, string> | null }[]> {
  try {
    return ((await docker.listVolumes({ filters: { label: labels } })).Volumes ?? []) as { Name: string; Labels: Record<string, string> | null }[];
  } catch (error) {
    throw engineUnreachable(error);
  }
}

/**
 * Removes the volume; true when it was there. The engine releases a volume once its last user
 * is gone, and a moment after a removal it may still say "in use": asked again for 2 s.
 */
export async function removeVolume(docker: Engine, name: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await docker.getVolume(name).remove();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      if (!isConflict(error) || attempt >= 20) throw engineUnreachable(error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
