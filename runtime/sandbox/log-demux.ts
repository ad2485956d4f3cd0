/**
 * Docker's multiplexed log stream (no TTY): frames of an 8-byte header (stream type, 3 zero
 * bytes, big-endian payload length) and the payload. Pure, incremental.
 */
export type LogStream = 'stdout' | 'stderr';

export class LogDemuxer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: LogStream, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 8) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < 8 + size) break;
      const type = this.buffer[0];
      const data = this.buffer.subarray(8, 8 + size);
      this.buffer = this.buffer.subarray(8 + size);
      if (size > 0) this.onFrame(type === 2 ? 'stderr' : 'stdout', data);
    }
  }
}
