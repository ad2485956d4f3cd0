import fs from 'node:fs';
import path from 'node:path';

export const AGENT_LOG_MAX_BYTES = 5 * 1024 * 1024;
/** Past this much waiting to be written (a stuck disk), further output is dropped and counted. */
export const AGENT_LOG_MAX_PENDING = 1024 * 1024;

export interface AgentLog {
  write(chunk: Buffer | string): void;
  /** Resolves once everything written so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The agent's output in `<dir>/agent.log` (mode 0600, folder 0700). Written without blocking
 * main: chunks queue in memory and one asynchronous writer appends them in order (and rolls the
 * file over to agent.log.1 past `maxBytes`), so a slow disk never freezes the window or the
 * tray. The queue is bounded: past AGENT_LOG_MAX_PENDING the overflow is dropped, and a line
 * says how much.
 */
export function createAgentLog(dir: string, maxBytes = AGENT_LOG_MAX_BYTES, warn?: (message: string, fields?: Record<string, unknown>) => void): AgentLog {
  const file = path.join(dir, 'agent.log');
  let handle: fs.promises.FileHandle | null = null;
  let size = 0;
  let queue: Buffer[] = [];
  let pending = 0;
  let dropped = 0;
  let writing: Promise<void> | null = null;
  let closed = false;

  const open = async (): Promise<fs.promises.FileHandle> => {
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const h = await fs.promises.open(file, 'a', 0o600);
    size = (await h.stat()).size;
    handle = h;
    return h;
  };
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const chunks = queue;
      queue = [];
      pending = 0;
      for (const chunk of chunks) {
        let h = handle ?? (await open());
        if (size >= maxBytes) {
          await h.close();
          handle = null;
          await fs.promises.rename(file, `${file}.1`);
          h = await open();
        }
        let data = chunk;
        if (dropped > 0) {
          data = Buffer.concat([Buffer.from(`{"level":"warn","msg":"agent log: ${dropped} bytes of output dropped (the disk was too slow)"}\n`), chunk]);
          dropped = 0;
        }
        await h.write(data);
        size += data.length;
      }
    }
  };
  const kick = () => {
    writing ??= drain()
      .catch((error: unknown) => warn?.('could not write the agent log', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        writing = null;
        if (queue.length > 0 && !closed) kick();
      });
  };
  return {
    write(chunk) {
      if (closed) return;
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (pending + data.length > AGENT_LOG_MAX_PENDING) {
        dropped += data.length;
        return;
      }
      queue.push(data);
      pending += data.length;
      kick();
    },
    async flush() {
      while (writing) await writing;
    },
    async close() {
      while (writing) await writing;
      closed = true;
      const h = handle as fs.promises.FileHandle | null;
      handle = null;
      await h?.close();
    },
  };
}
