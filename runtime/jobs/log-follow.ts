/**
 * A job's container output: followed while it runs (into its log file, its tail and live
 * viewers), and caught up once it ends with what the follow stream missed.
 */
import type { EngineContainer } from '../engine/index.js';
import { LogDemuxer, type LogStream } from '../sandbox/log-demux.js';
import type { Active } from './active.js';
import type { RunnerCore } from './core.js';

/** Keeps one chunk of the container's output (file, tail, live viewers). */
function keep(core: RunnerCore, a: Active, stream: LogStream, data: Buffer): void {
  a.logSeen[stream] += data.length;
  const kept = a.log.write(data);
  if (kept.length) core.options.onLog?.({ id: a.id, stream, text: kept.toString('utf8') });
}

export function followLogs(core: RunnerCore, a: Active, container: EngineContainer): void {
  a.logSeen = { stdout: 0, stderr: 0 };
  a.logDone = (async () => {
    const stream = await container.followLogs();
    a.logStream = stream;
    const demux = new LogDemuxer((streamName, data) => keep(core, a, streamName, data));
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
  })().catch((error: unknown) => core.log.warn('job log stream failed', { id: a.id, error }));
}

/**
 * The engine holds back a line without its newline until the container exits, and a follow
 * stream can end before it sends it: read the stored log once more and keep what is missing.
 */
export async function catchUpLogs(core: RunnerCore, a: Active, container: EngineContainer): Promise<void> {
  try {
    const all = await container.storedLogs();
    const skip = { ...a.logSeen };
    new LogDemuxer((streamName, data) => {
      const n = Math.min(skip[streamName], data.length);
      skip[streamName] -= n;
      if (n < data.length) keep(core, a, streamName, data.subarray(n));
    }).push(all);
  } catch (error) {
    core.log.warn('job log catch-up failed', { id: a.id, error });
  }
}
