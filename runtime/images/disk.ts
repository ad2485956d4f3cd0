/** The engine's disk: how much is free where it keeps its images (when that folder can be read from here). */
import fs from 'node:fs';

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/** Free and total bytes of the file system holding `dir`; null when it cannot be read (a remote engine, Docker Desktop's VM). */
export async function diskSpace(dir: string | null): Promise<DiskSpace | null> {
  if (!dir) return null;
  try {
    const s = await fs.promises.statfs(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}
