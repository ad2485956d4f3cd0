/**
 * Reading a small file that a person names on the command line (a password, a key, a voucher, a
 * settings file, a recorded benchmark report): a regular file of at most `maxBytes`. A device
 * such as /dev/zero, a FIFO or a huge file is refused with a sentence, where reading it whole
 * would hang or exhaust memory. The message is the reason alone ("it is not a regular file");
 * callers say which file and what to do.
 */
import fs from 'node:fs';

export class SmallFileError extends Error {}

export function readSmallFile(file: string, maxBytes: number): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw new SmallFileError((error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new SmallFileError('it is not a regular file');
    if (st.size > maxBytes) throw new SmallFileError(`it is larger than ${maxBytes} bytes`);
    // The size can change while reading: read at most one byte more than allowed to know.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw new SmallFileError(`it is larger than ${maxBytes} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
