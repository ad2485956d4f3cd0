/** A local image's root filesystem: an in-memory tar that GNU tar reads back, names, modes and bytes intact. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTar } from '../../../runtime/sandbox/tar-write.js';
import { makeTempHome } from '../../helpers/temp-home.js';

let temp: ReturnType<typeof makeTempHome> | null = null;
afterEach(() => temp?.cleanup());

describe('makeTar', () => {
  it('writes ustar entries that tar lists and extracts exactly (sizes on and off the 512-byte block)', () => {
    temp = makeTempHome('offshift-tar-');
    const binary = Buffer.alloc(1024 + 7, 0xab);
    const tar = makeTar([
      { name: 'Dockerfile', data: Buffer.from('FROM scratch\n'), mode: 0o644 },
      { name: 'render', data: binary, mode: 0o755 },
      { name: 'empty', data: Buffer.alloc(0), mode: 0o600 },
    ]);
    expect(tar.length % 512).toBe(0);
    const file = path.join(temp.home, 'context.tar');
    fs.writeFileSync(file, tar);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(['Dockerfile', 'render', 'empty']);
    expect(listing[1]).toMatch(/^-rwxr-xr-x root\/root +1031 /);
    const out = path.join(temp.home, 'x');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(fs.readFileSync(path.join(out, 'render')).equals(binary)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(fs.statSync(path.join(out, 'empty')).size).toBe(0);
  });

  it('writes folders (with their modes, the sticky bit kept) that GNU tar extracts, files inside them', () => {
    temp = makeTempHome('offshift-tar-');
    const tar = makeTar([
      { name: 'tmp', mode: 0o1777 },
      { name: 'etc/', mode: 0o755 },
      { name: 'etc/hello', mode: 0o644, data: Buffer.from('hi\n') },
    ]);
    // Folders carry no data: three headers, one data block, two empty blocks.
    expect(tar.length).toBe(512 * 3 + 512 + 1024);
    expect(tar.subarray(0, 5).toString()).toBe('tmp/\0');
    const file = path.join(temp.home, 'rootfs.tar');
    fs.writeFileSync(file, tar);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toMatch(/^drwxrwxrwt root\/root +0 .* tmp\/$/);
    expect(listing[1]).toMatch(/^drwxr-xr-x root\/root +0 .* etc\/$/);
    const out = path.join(temp.home, 'x');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(fs.statSync(path.join(out, 'tmp')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(out, 'etc', 'hello'), 'utf8')).toBe('hi\n');
  });

  it('refuses a name the format cannot hold', () => {
    expect(() => makeTar([{ name: 'x'.repeat(101), data: Buffer.alloc(1), mode: 0o644 }])).toThrow(/bad file name/);
    expect(() => makeTar([{ name: '', data: Buffer.alloc(1), mode: 0o644 }])).toThrow(/bad file name/);
    expect(() => makeTar([{ name: '', mode: 0o755 }])).toThrow(/bad file name/);
  });
});
