/**
 * Whether a GPU process belongs to one of Offshift's own jobs (it then never counts as foreign
 * GPU use, frozen or running). Linux: the process's cgroup names its container; the container
 * carries the `io.offshift.managed` label. The label query is cached for a few seconds and only
 * made when a GPU process needs attributing.
 */
import fs from 'node:fs';
import { connectDocker, listContainers } from '../../engine/index.js';
import { LABEL_MANAGED } from '../../sandbox/policy.js';

const CONTAINER_ID = /([0-9a-f]{64})/;

/** The container id in a /proc/PID/cgroup text, if any. Pure. */
export function containerIdFromCgroup(text: string): string | null {
  for (const line of text.split('\n')) {
    const m = CONTAINER_ID.exec(line);
    if (m?.[1]) return m[1];
  }
  return null;
}

export function createOwnJobMatcher(listManagedIds: () => Promise<readonly string[]>, ttlMs = 5000, procDir = '/proc'): (pid: number) => Promise<boolean> {
  let ids = new Set<string>();
  let fetchedAt = 0;
  return async (pid) => {
    let cgroup: string;
    try {
      cgroup = fs.readFileSync(`${procDir}/${pid}/cgroup`, 'utf8');
    } catch {
      return false;
    }
    const id = containerIdFromCgroup(cgroup);
    if (!id) return false;
    if (Date.now() - fetchedAt > ttlMs) {
      try {
        ids = new Set(await listManagedIds());
        fetchedAt = Date.now();
      } catch {
        return false;
      }
    }
    return ids.has(id);
  };
}

/** The ids of containers labelled `io.offshift.managed`, via the Docker engine the runner uses. */
export async function listManagedContainerIds(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const docker = connectDocker(env);
  const list = await listContainers(docker, [LABEL_MANAGED]);
  return list.map((c) => c.Id);
}
