/** The readable form of a JSON log line, for a person at a terminal: `12:04:31 WARN  msg key=value …`. */

const LEVEL_WIDTH = 5;

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One JSON line in, one readable line out; anything that is not a JSON object passes unchanged. */
export function readableLogLine(line: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return line;
  const { t, level, msg, ...fields } = entry as Record<string, unknown>;
  const time = typeof t === 'string' ? new Date(t).toLocaleTimeString('en-GB', { hour12: false }) : '';
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${fieldValue(v)}`);
  return [time, String(level ?? '').toUpperCase().padEnd(LEVEL_WIDTH), String(msg ?? ''), ...rest].filter(Boolean).join(' ') + '\n';
}

/** Reformats a stream of JSON lines (another process's log) chunk by chunk, whole lines only. */
export function readableLogStream(write: (text: string) => void): (chunk: Buffer | string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    const end = pending.lastIndexOf('\n');
    if (end === -1) return;
    const lines = pending.slice(0, end).split('\n');
    pending = pending.slice(end + 1);
    write(lines.map((l) => readableLogLine(l)).join(''));
  };
}
