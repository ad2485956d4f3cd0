/** The engine's liveness: a ping, and the stream of container events that breaks when it goes away. */
import type { Readable } from 'node:stream';
import type { Engine } from './connect.js';

/** Resolves true once the engine answers, false after `timeoutMs`. */
export async function engineAnswers(docker: Engine, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await docker.ping();
      return true;
    } catch {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The engine's events about containers carrying `label`; the stream ends when the engine goes away. */
export async function containerEvents(docker: Engine, label: string): Promise<Readable> {
  return (await docker.getEvents({ filters: { type: ['container'], label: [label] } })) as unknown as Readable;
}
