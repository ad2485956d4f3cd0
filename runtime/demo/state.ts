/**
 * demo/demo.json: what the running demo network is (its process, owner, market url, buyer) and
 * how far it got, for `offshift demo status` and for finding it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { demoFolderId } from './lifetime.js';
import { DEMO_DIR } from './paths.js';

export const demoStateSchema = z.object({
  pid: z.number().int().nullable(),
  /** The agent the network belongs to: it stops when that agent is gone. Null when started by hand. */
  ownerPid: z.number().int().nullable().default(null),
  /** Inside the agent (the desktop app): the process that stops the chain if the agent is killed. */
  guardPid: z.number().int().nullable().default(null),
  url: z.string().nullable(),
  buyer: z.string().nullable(),
  imageId: z.string().nullable(),
  startedAt: z.number().nullable(),
  jobsSubmitted: z.number().int().default(0),
  /** Why the buyer is not submitting now, if it is not (for `demo status`). */
  problem: z.string().nullable().default(null),
  /** The buyer's last problem and when, kept after it resumed (for `demo status`). */
  lastProblem: z.object({ message: z.string(), at: z.string() }).nullable().default(null),
  /** Runs inside the agent's own process (the desktop app): stops with it, never killed by `demo down`. */
  inProcess: z.boolean().default(false),
  /** Of the jobs submitted, those on the GPU. */
  gpuJobsSubmitted: z.number().int().default(0),
  /** Whether the demo buyer sends GPU jobs too, and why not (gpu-jobs.ts); null until it knows. */
  jobs: z.object({ gpu: z.boolean(), reason: z.string() }).nullable().default(null),
});
export type DemoState = z.infer<typeof demoStateSchema>;

export function demoStateFile(home: string): string {
  return path.join(home, DEMO_DIR, 'demo.json');
}

export function readDemoState(home: string): DemoState | null {
  try {
    return demoStateSchema.parse(JSON.parse(fs.readFileSync(demoStateFile(home), 'utf8')));
  } catch {
    return null;
  }
}

export function writeDemoState(home: string, state: DemoState): void {
  fs.mkdirSync(path.join(home, DEMO_DIR), { recursive: true, mode: 0o700 });
  writeFileAtomic(demoStateFile(home), JSON.stringify(state, null, 2) + '\n', 0o600);
}

/**
 * The running network's own update of demo.json: never throws (a full disk is logged and the
 * next save catches up), writes only into the demo folder it started in (`folder`: never into
 * one deleted, nor one made again since), and keeps the owner written there (an agent may have
 * adopted the network since).
 */
export function saveDemoState(home: string, state: DemoState, log: Logger, folder: string | null): void {
  if (folder === null || demoFolderId(home) !== folder) return;
  try {
    const onDisk = readDemoState(home);
    if (onDisk && onDisk.ownerPid !== state.ownerPid) state.ownerPid = onDisk.ownerPid;
    if (onDisk && onDisk.guardPid !== state.guardPid) state.guardPid = onDisk.guardPid;
    writeDemoState(home, state);
  } catch (error) {
    log.warn('could not save the demo state (demo/demo.json)', { error: (error as Error).message });
  }
}
