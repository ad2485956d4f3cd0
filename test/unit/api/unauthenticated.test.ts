/**
 * The pool of sockets without the token (slowloris defence): full means the oldest goes, a socket
 * being answered goes last (for a while), one that showed the token is never counted.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { ANSWER_GRACE_MS, UnauthenticatedSockets } from '../../../runtime/api/transports/unauthenticated.js';

describe('UnauthenticatedSockets', () => {
  let now = 0;
  const make = (cap: number) => new UnauthenticatedSockets(cap, silentLogger, () => now);
  const sockets = (n: number) => Array.from({ length: n }, () => new PassThrough());

  it('takes every new socket and closes the oldest when full', () => {
    const pool = make(3);
    const [a, b, c, d] = sockets(4);
    for (const s of [a!, b!, c!]) pool.add(s);
    pool.add(d!);
    expect(a!.destroyed).toBe(true);
    expect([b, c, d].map((s) => s!.destroyed)).toEqual([false, false, false]);
    expect(pool.size).toBe(3);
  });

  it('closes a socket being answered only after the others, and only for ANSWER_GRACE_MS', () => {
    now = 0;
    const pool = make(2);
    const [page, slow, next, later] = sockets(4);
    pool.add(page!);
    pool.add(slow!);
    pool.answeringOn(page!);
    pool.add(next!);
    expect(page!.destroyed).toBe(false);
    expect(slow!.destroyed).toBe(true);
    // A reader that never reads does not keep its place for ever.
    now = ANSWER_GRACE_MS + 1;
    pool.add(later!);
    expect(page!.destroyed).toBe(true);
    expect(next!.destroyed).toBe(false);
  });

  it('a socket that showed the token leaves the pool and is never closed by it', () => {
    const pool = make(1);
    const [owner, a, b] = sockets(3);
    pool.add(owner!);
    pool.delete(owner!);
    pool.add(a!);
    pool.add(b!);
    expect(owner!.destroyed).toBe(false);
    expect(a!.destroyed).toBe(true);
  });
});
