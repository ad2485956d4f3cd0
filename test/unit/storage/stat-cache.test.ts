import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { statCached } from '../../../runtime/storage/stat-cache.js';
import { makeTempDir } from '../../helpers/temp-home.js';

describe('a small file read again only once it changed', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const counting = () => {
    dir = makeTempDir('offshift-stat-cache-');
    const file = path.join(dir, 'settings.json');
    let reads = 0;
    const read = statCached(
      (d: string) => path.join(d, 'settings.json'),
      (d: string) => {
        reads += 1;
        return JSON.parse(fs.readFileSync(path.join(d, 'settings.json'), 'utf8')) as { n: number };
      },
      (v) => structuredClone(v),
    );
    return { file, read, reads: () => reads };
  };

  it('reads once while the file is unchanged, again after a rename into place or an edit in place', () => {
    const c = counting();
    fs.writeFileSync(c.file, '{"n":1}');
    expect(c.read(dir)).toEqual({ n: 1 });
    expect(c.read(dir)).toEqual({ n: 1 });
    expect(c.reads()).toBe(1);
    fs.writeFileSync(`${c.file}.new`, '{"n":2}');
    fs.renameSync(`${c.file}.new`, c.file);
    expect(c.read(dir)).toEqual({ n: 2 });
    // Same size, rewritten in place: its times change.
    fs.writeFileSync(c.file, '{"n":3}');
    expect(c.read(dir)).toEqual({ n: 3 });
    expect(c.reads()).toBe(3);
  });

  it('hands out copies: a caller changing what it got does not change what the next one gets', () => {
    const c = counting();
    fs.writeFileSync(c.file, '{"n":1}');
    c.read(dir).n = 99;
    expect(c.read(dir)).toEqual({ n: 1 });
  });

  it('never keeps a failure: a damaged file is read (and refused) at every call, and read again once mended', () => {
    const c = counting();
    expect(() => c.read(dir)).toThrow(/ENOENT/);
    fs.writeFileSync(c.file, '{not json');
    expect(() => c.read(dir)).toThrow(SyntaxError);
    expect(() => c.read(dir)).toThrow(SyntaxError);
    fs.writeFileSync(c.file, '{"n":4}');
    expect(c.read(dir)).toEqual({ n: 4 });
    fs.rmSync(c.file);
    expect(() => c.read(dir)).toThrow(/ENOENT/);
  });

  it('keeps "no file" (the reader\'s defaults) until one appears', () => {
    dir = makeTempDir('offshift-stat-cache-');
    const file = path.join(dir, 'settings.json');
    let reads = 0;
    const read = statCached(
      () => file,
      () => {
        reads += 1;
        return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { n: number }) : { n: 0 };
      },
    );
    expect(read()).toEqual({ n: 0 });
    expect(read()).toEqual({ n: 0 });
    expect(reads).toBe(1);
    fs.writeFileSync(file, '{"n":5}');
    expect(read()).toEqual({ n: 5 });
    expect(reads).toBe(2);
  });
});
