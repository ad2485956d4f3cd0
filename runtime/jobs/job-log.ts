/**
 * A job's log: kept in a file up to a cap, the rest counted and dropped (a marker says how
 * much), the last lines kept in memory for the job record.
 */
import fs from 'node:fs';
import { isDiskFull } from '../storage/disk-full.js';

export const DEFAULT_LOG_CAP_BYTES = 1024 * 1024;
export const TAIL_LINES = 50;
const TAIL_MAX_CHARS = 8192;

export function droppedMarker(bytes: number): string {
  return `[offshift: ${bytes} bytes of log dropped: the job wrote more than its log cap]\n`;
}

export class JobLog {
  private kept = 0;
  private fd: number | null;
  dropped = 0;
  /** Bytes not written because the disk was full (they stay in the tail; the job goes on). */
  lostToFullDisk = 0;
  private tail = '';
  /** Bytes of the container's output already in the file (a re-adopted job replays from the start). */
  private toSkip = 0;

  constructor(
    readonly file: string,
    private readonly capBytes: number = DEFAULT_LOG_CAP_BYTES,
  ) {
    this.kept = fs.existsSync(file) ? fs.statSync(file).size : 0;
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  /** The next `write`s replay output the file already holds: skip as many bytes as it has. */
  replayFromStart(): void {
    this.toSkip = this.kept;
  }

  /** Appends a chunk; returns the part that was kept (what live viewers should see). */
  write(input: Buffer): Buffer {
    let chunk = input;
    if (this.toSkip > 0) {
      const skipped = chunk.subarray(0, Math.min(this.toSkip, chunk.length));
      this.toSkip -= skipped.length;
      this.tail = trimTail(this.tail + skipped.toString('utf8'));
      chunk = chunk.subarray(skipped.length);
      if (!chunk.length) return chunk;
    }
    const room = Math.max(0, this.capBytes - this.kept);
    const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (keep.length < chunk.length) this.dropped += chunk.length - keep.length;
    if (keep.length && this.fd !== null) {
      try {
        fs.writeSync(this.fd, keep);
        this.kept += keep.length;
      } catch (error) {
        // Thrown here it would end the agent (this runs in a stream's data handler).
        if (!isDiskFull(error)) throw error;
        this.lostToFullDisk += keep.length;
      }
    }
    // The tail follows the job's latest output even past the cap.
    this.tail = trimTail(this.tail + chunk.subarray(Math.max(0, chunk.length - TAIL_MAX_CHARS)).toString('utf8'));
    return keep;
  }

  get tailText(): string {
    return this.tail;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      if (this.dropped > 0) fs.writeSync(this.fd, droppedMarker(this.dropped));
      if (this.lostToFullDisk > 0) fs.writeSync(this.fd, `[offshift: ${this.lostToFullDisk} bytes of log not written: the disk was full]\n`);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
    }
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

export function trimTail(text: string): string {
  let t = text.length > TAIL_MAX_CHARS ? text.slice(text.length - TAIL_MAX_CHARS) : text;
  const lines = t.split('\n');
  if (lines.length > TAIL_LINES + 1) t = lines.slice(lines.length - TAIL_LINES - 1).join('\n');
  return t;
}
