import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';

/** Where a running headless agent says it listens, so the CLI can reach it. */
const FILE = 'agent.json';
const schema = z.object({ port: z.number().int().positive(), pid: z.number().int().positive(), url: z.string() });
export type AgentEndpoint = z.infer<typeof schema>;

export function writeEndpoint(home: string, endpoint: AgentEndpoint): void {
  const file = path.join(home, FILE);
  try {
    writeFileAtomic(file, JSON.stringify(endpoint) + '\n', 0o600);
  } catch (error) {
    if (error instanceof AppError) throw error; // disk-full, with what to do
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' ? 'it is a folder, not a file' : (error as Error).message;
    throw new AppError('endpoint-unwritable', `Cannot write ${file} (${why}). Remove it: it only tells the offshift command where this agent listens, and the agent writes it at each start. Then start the agent again.`);
  }
}

export function clearEndpoint(home: string): void {
  fs.rmSync(path.join(home, FILE), { force: true });
}

/** The endpoint of a live agent, or null (no file, a corrupt one, or a dead pid). */
export function readEndpoint(home: string): AgentEndpoint | null {
  try {
    const parsed = schema.safeParse(JSON.parse(fs.readFileSync(path.join(home, FILE), 'utf8')));
    if (!parsed.success) return null;
    process.kill(parsed.data.pid, 0);
    return parsed.data;
  } catch {
    return null;
  }
}
