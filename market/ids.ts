/** The market's ids for jobs and offers: random, short, printable. */
import crypto from 'node:crypto';

/** Random bytes drawn from a pool (one system call per 4 KiB, not one per id). */
let pool = Buffer.alloc(0);
let poolAt = 0;

export function randomId(prefix: string, bytes = 12): string {
  if (poolAt + bytes > pool.length) {
    pool = crypto.randomBytes(4096);
    poolAt = 0;
  }
  const id = prefix + pool.toString('base64url', poolAt, poolAt + bytes);
  poolAt += bytes;
  return id;
}
