import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSmallFile } from '../../../runtime/storage/small-file.js';
import { makeTempDir } from '../../helpers/temp-home.js';

describe('readSmallFile: a file a person names, read whole only when small and regular', () => {
  const dir = makeTempDir('offshift-small-file-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a regular file up to the limit', () => {
    fs.writeFileSync(path.join(dir, 'ok'), 'x'.repeat(100));
    expect(readSmallFile(path.join(dir, 'ok'), 100)).toBe('x'.repeat(100));
  });

  it('refuses a file over the limit', () => {
    fs.writeFileSync(path.join(dir, 'big'), 'x'.repeat(101));
    expect(() => readSmallFile(path.join(dir, 'big'), 100)).toThrow('it is larger than 100 bytes');
  });

  it('refuses /dev/zero at once instead of reading forever', () => {
    const started = Date.now();
    expect(() => readSmallFile('/dev/zero', 1024)).toThrow('it is not a regular file');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a FIFO without waiting for a writer, and a folder', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => readSmallFile(fifo, 1024)).toThrow('it is not a regular file');
    expect(() => readSmallFile(dir, 1024)).toThrow('it is not a regular file');
  });

  it('says why a file cannot be opened', () => {
    expect(() => readSmallFile(path.join(dir, 'missing'), 1024)).toThrow('ENOENT');
  });
});
