import fs from 'node:fs';
import path from 'node:path';

export const AGENT_LOG_MAX_BYTES = 5 * 1024 * 1024;

/**
 * The agent's output in `<dir>/agent.log` (mode 0600, folder 0700), opened on first write.
 * When the file passes `maxBytes` it becomes agent.log.1 (replacing the previous one), so the
 * logs of a long-running app stay bounded at about twice that. Synchronous appends: the agent
 * writes a few structured lines a minute, and a line is on disk before a crash can lose it.
 */
export function createAgentLog(dir: string, maxBytes = AGENT_LOG_MAX_BYTES): { write(chunk: Buffer | string): void; close(): void } {
  const file = path.join(dir, 'agent.log');
  let fd: number | null = null;
  let size = 0;
  const open = (): number => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const opened = fs.openSync(file, 'a', 0o600);
    size = fs.fstatSync(opened).size;
    fd = opened;
    return opened;
  };
  const close = () => {
    if (fd !== null) fs.closeSync(fd);
    fd = null;
  };
  return {
    write(chunk) {
      let target = fd ?? open();
      if (size >= maxBytes) {
        close();
        fs.renameSync(file, `${file}.1`);
        target = open();
      }
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      fs.writeSync(target, data);
      size += data.length;
    },
    close,
  };
}
