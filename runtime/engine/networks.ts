/** The engine's networks Offshift makes (the jobs' egress network): read, made, removed. */
import type Docker from 'dockerode';
import type { Engine } from './connect.js';

export type NetworkDetails = Docker.NetworkInspectInfo;
export type NetworkCreateOptions = Docker.NetworkCreateOptions;

/** The network's details, or null when there is none of that name (or the engine cannot say). */
export async function inspectNetwork(docker: Engine, name: string): Promise<NetworkDetails | null> {
  return docker
    .getNetwork(name)
    .inspect()
    .catch(() => null);
}

export async function createNetwork(docker: Engine, options: NetworkCreateOptions): Promise<void> {
  await docker.createNetwork(options);
}

/** Removes it; one already gone (or still in use) is left as it is. */
export async function removeNetwork(docker: Engine, name: string): Promise<void> {
  await docker
    .getNetwork(name)
    .remove()
    .catch(() => {});
}

/** The engine refused a network because its subnet or name is taken. */
export function isNetworkClash(error: unknown): boolean {
  return /overlap|in use|already exists/i.test(String(error));
}
