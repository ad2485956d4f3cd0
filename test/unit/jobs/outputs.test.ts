/**
 * A job's output folder is written by a stranger's code: jobs.outputs and jobs.outputFile must
 * never read outside it (`..`, absolute paths, links to files or folders elsewhere), never block
 * on a FIFO, and only hand pictures to the page (by their bytes, not their names), within a cap.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listOutputs, MAX_LISTED_FILES, readOutputImage, sniffImage } from '../../../runtime/jobs/outputs.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of a tiny png')]);

let home: { home: string; cleanup: () => void };
let out: string;
let secret: string;

beforeEach(() => {
  home = makeTempHome('offshift-outputs-');
  out = path.join(home.home, 'jobs', 'j1', 'output');
  fs.mkdirSync(path.join(out, 'frames'), { recursive: true });
  fs.writeFileSync(path.join(out, 'picture.png'), PNG);
  fs.writeFileSync(path.join(out, 'frames', 'f1.png'), PNG);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(out, 'fake.png'), 'not a picture at all');
  // What a hostile job would point at: a file of the agent's, outside the output folder.
  secret = path.join(home.home, 'secret.png');
  fs.writeFileSync(secret, PNG);
});
afterEach(() => home.cleanup());

describe('jobs.outputs: the listing', () => {
  it('lists regular files with sizes and types, skipping links, sniffing pictures by their bytes', () => {
    fs.symlinkSync(secret, path.join(out, 'link.png'));
    fs.symlinkSync(home.home, path.join(out, 'linkdir'));
    const { files, truncated } = listOutputs(out);
    expect(truncated).toBe(false);
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(['fake.png', 'frames/f1.png', 'notes.txt', 'picture.png']);
    expect(byPath['picture.png']).toMatchObject({ sizeBytes: PNG.length, mimeType: 'image/png' });
    expect(byPath['notes.txt']).toMatchObject({ sizeBytes: 5, mimeType: 'text/plain' });
    expect(byPath['fake.png']!.mimeType).toBe('application/octet-stream');
  });

  it('is empty for a job without an output folder, and bounded for a folder with too many files', () => {
    expect(listOutputs(path.join(home.home, 'jobs', 'nope', 'output'))).toEqual({ files: [], truncated: false });
    for (let i = 0; i < MAX_LISTED_FILES + 5; i++) fs.writeFileSync(path.join(out, `many-${i}.txt`), '');
    const { files, truncated } = listOutputs(out);
    expect(files).toHaveLength(MAX_LISTED_FILES);
    expect(truncated).toBe(true);
  });
});

describe('jobs.outputFile: one picture as a data URL', () => {
  it('reads a picture inside the folder', () => {
    const image = readOutputImage(out, 'frames/f1.png');
    expect(image).toMatchObject({ path: 'frames/f1.png', mimeType: 'image/png', sizeBytes: PNG.length });
    expect(Buffer.from(image.dataUrl.replace('data:image/png;base64,', ''), 'base64').equals(PNG)).toBe(true);
  });

  it.each(['../secret.png', 'frames/../../secret.png', '/etc/passwd', '/tmp/secret.png', './picture.png', 'frames//f1.png', 'a\\..\\b', 'x\0.png', ''])('refuses the path %j', (rel) => {
    expect(() => readOutputImage(out, rel)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });

  it('refuses a link to a file outside, and a folder that is a link', () => {
    fs.symlinkSync(secret, path.join(out, 'link.png'));
    fs.symlinkSync(home.home, path.join(out, 'linkdir'));
    expect(() => readOutputImage(out, 'link.png')).toThrow(/goes through a link/);
    expect(() => readOutputImage(out, 'linkdir/secret.png')).toThrow(/goes through a link/);
    // A hard link is a regular file, but only the owner could make one to a file of theirs:
    // a relative link inside the folder to a picture inside the folder is still a link.
    fs.symlinkSync('picture.png', path.join(out, 'inside-link.png'));
    expect(() => readOutputImage(out, 'inside-link.png')).toThrow(/goes through a link/);
  });

  it('does not block on a FIFO, and refuses folders and missing files', () => {
    execFileSync('mkfifo', [path.join(out, 'pipe.png')]);
    expect(() => readOutputImage(out, 'pipe.png')).toThrow(/not a regular file/);
    expect(() => readOutputImage(out, 'frames')).toThrow(/not a regular file/);
    expect(() => readOutputImage(out, 'missing.png')).toThrow(expect.objectContaining({ code: 'not-found' }));
    expect(() => readOutputImage(path.join(home.home, 'jobs', 'none', 'output'), 'a.png')).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  it('refuses what is not a picture by its bytes, and a picture over the cap', () => {
    expect(() => readOutputImage(out, 'fake.png')).toThrow(expect.objectContaining({ code: 'not-an-image' }));
    expect(() => readOutputImage(out, 'notes.txt')).toThrow(expect.objectContaining({ code: 'not-an-image' }));
    fs.writeFileSync(path.join(out, 'big.png'), Buffer.concat([PNG, Buffer.alloc(2048)]));
    expect(() => readOutputImage(out, 'big.png', 1024)).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('knows pictures by their first bytes', () => {
    expect(sniffImage(PNG)).toBe('image/png');
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImage(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(sniffImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'))).toBeNull();
  });
});
