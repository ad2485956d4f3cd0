/**
 * The tar reader that writes a job's /output (read back through the engine's archive API) against
 * hostile archives: every link, device and FIFO is skipped, every escape refused, every cap kept,
 * each with its reason, and nothing is ever written outside the destination folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasSysAdmin } from '../../../runtime/sandbox/mount-capability.js';
import { keeperSpec, outputEntryCap, outputVolumeOptions } from '../../../runtime/sandbox/output-volume.js';
import { extractTar, type TarLimits } from '../../../runtime/sandbox/tar-read.js';
import { makeTempDir } from '../../helpers/temp-home.js';

type Raw = { name: string; type?: string; data?: Buffer | string; size?: number; link?: string; prefix?: string };

/** One ustar header; `size` may lie about the data that follows. */
function header(e: Raw): Buffer {
  const h = Buffer.alloc(512, 0);
  const data = Buffer.from(e.data ?? '');
  h.write(e.name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write((e.size ?? data.length).toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(e.type ?? '0', 156, 'ascii');
  if (e.link) h.write(e.link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  if (e.prefix) h.write(e.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function entry(e: Raw): Buffer {
  const data = Buffer.from(e.data ?? '');
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([header(e), data, Buffer.alloc(pad)]);
}

function pax(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = rest.length + 1;
      while (String(len).length + rest.length !== len) len++;
      return `${len}${rest}`;
    })
    .join('');
  return entry({ name: 'PaxHeaders/x', type: 'x', data: body });
}

const END = Buffer.alloc(1024);
const tar = (...parts: Buffer[]) => Buffer.concat([...parts, END]);
/** The archive in small uneven chunks, as a socket delivers it. */
const chunked = (buf: Buffer, size = 700) => Readable.from(Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size)));

let root: string;
let dest: string;
const limits: TarLimits = { maxBytes: 1024 * 1024, maxEntries: 100, stripComponents: 1 };

/** Every path under root, relative, with its kind: what was written anywhere. */
function tree(dir = root, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const st = fs.lstatSync(path.join(dir, e.name));
    out.push(`${r}:${st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other'}`);
    if (st.isDirectory()) out.push(...tree(path.join(dir, e.name), r));
  }
  return out.sort();
}

beforeEach(() => {
  root = makeTempDir('offshift-tar-');
  dest = path.join(root, 'out', 'job', 'output');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('extractTar', () => {
  it('writes regular files byte-exact and folders, 0600 and 0700, dropping the archived folder name', async () => {
    const bin = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const r = await extractTar(
      chunked(tar(entry({ name: 'output/', type: '5' }), entry({ name: 'output/a.txt', data: 'hello\n' }), entry({ name: 'output/sub/', type: '5' }), entry({ name: 'output/sub/b.bin', data: bin }))),
      dest,
      limits,
    );
    expect(r).toMatchObject({ files: 2, bytes: 6 + 3000, stopped: null, skippedCount: 0 });
    expect(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('hello\n');
    expect(fs.readFileSync(path.join(dest, 'sub/b.bin')).equals(bin)).toBe(true);
    expect(fs.statSync(path.join(dest, 'a.txt')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dest, 'sub')).mode & 0o777).toBe(0o700);
  });

  it('reads what GNU tar writes (the real format, long names included)', async () => {
    const src = path.join(root, 'src', 'output');
    const long = 'd'.repeat(120);
    fs.mkdirSync(path.join(src, long), { recursive: true });
    fs.writeFileSync(path.join(src, long, 'f'.repeat(150)), 'deep\n');
    fs.writeFileSync(path.join(src, 'x'), 'x');
    fs.symlinkSync('/etc/passwd', path.join(src, 'link'));
    for (const format of ['gnu', 'pax']) {
      const archive = execFileSync('tar', ['-C', path.dirname(src), `--format=${format}`, '-cf', '-', 'output']);
      const out = `${dest}-${format}`;
      const r = await extractTar(chunked(archive), out, limits);
      expect(r.stopped).toBeNull();
      expect(fs.readFileSync(path.join(out, long, 'f'.repeat(150)), 'utf8')).toBe('deep\n');
      expect(r.skipped).toEqual([{ path: 'link', reason: expect.stringMatching(/symbolic link/) }]);
      expect(fs.existsSync(path.join(out, 'link'))).toBe(false);
    }
  });

  it('skips symbolic links, hard links, devices and FIFOs, each with its reason, creating none', async () => {
    const r = await extractTar(
      chunked(
        tar(
          entry({ name: 'output/sym', type: '2', link: '/etc/passwd' }),
          entry({ name: 'output/hard', type: '1', link: '/etc/shadow' }),
          entry({ name: 'output/chr', type: '3' }),
          entry({ name: 'output/blk', type: '4' }),
          entry({ name: 'output/fifo', type: '6' }),
          entry({ name: 'output/ok', data: 'ok' }),
        ),
      ),
      dest,
      limits,
    );
    expect(r.skipped.map((s) => [s.path, s.reason.split(':')[0]])).toEqual([
      ['sym', 'a symbolic link'],
      ['hard', 'a hard link'],
      ['chr', 'a character device'],
      ['blk', 'a block device'],
      ['fifo', 'a FIFO'],
    ]);
    expect(tree()).toEqual(['out:dir', 'out/job:dir', 'out/job/output:dir', 'out/job/output/ok:file'].sort());
  });

  it('refuses `..`, absolute paths and escapes hidden in PAX or GNU long names; writes nothing outside', async () => {
    const r = await extractTar(
      chunked(
        tar(
          entry({ name: 'output/../../escape1', data: 'x' }),
          entry({ name: '/tmp/escape2', data: 'x' }),
          entry({ name: '../escape3', data: 'x' }),
          entry({ name: 'escape4', prefix: 'output/../..', data: 'x' }),
          pax({ path: 'output/../../../escape5' }),
          entry({ name: 'output/innocent', data: 'x' }),
          entry({ name: '././@LongLink', type: 'L', data: '/abs/escape6\0' }),
          entry({ name: 'output/innocent2', data: 'x' }),
          entry({ name: 'output/kept', data: 'kept' }),
        ),
      ),
      dest,
      limits,
    );
    expect(r.files).toBe(1);
    expect(r.skipped.map((s) => s.reason)).toEqual([
      'a path that leaves the folder (..)',
      'an absolute path',
      'a path that leaves the folder (..)',
      'a path that leaves the folder (..)',
      'a path that leaves the folder (..)',
      'an absolute path',
    ]);
    expect(tree()).toEqual(['out:dir', 'out/job:dir', 'out/job/output:dir', 'out/job/output/kept:file'].sort());
    expect(fs.existsSync('/tmp/escape2')).toBe(false);
  });

  it('skips a file larger than what is left of the cap, keeps reading the rest', async () => {
    const r = await extractTar(chunked(tar(entry({ name: 'output/big', data: Buffer.alloc(3000, 1) }), entry({ name: 'output/small', data: 'small' }))), dest, { ...limits, maxBytes: 2048 });
    expect(r.skipped).toEqual([{ path: 'big', reason: expect.stringMatching(/^3000 bytes, more than the 2048 left/) }]);
    expect(fs.readdirSync(dest)).toEqual(['small']);
    expect(r.bytes).toBe(5);
  });

  it('stops at a huge claimed size without reading it all (a sparse file in the tmpfs)', async () => {
    // The header says 8 GiB; the reader must give up once it has read more than its read budget.
    let served = 0;
    const endless = Readable.from(
      (function* () {
        yield header({ name: 'output/sparse', size: 8 * 1024 ** 3 });
        for (;;) {
          served += 65536;
          yield Buffer.alloc(65536);
        }
      })(),
    );
    const r = await extractTar(endless, dest, { ...limits, maxBytes: 1024 * 1024, maxReadBytes: 4 * 1024 * 1024 });
    expect(r.stopped).toMatch(/larger than 4194304 bytes/);
    expect(served).toBeLessThan(8 * 1024 * 1024);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  it('stops after the entry cap', async () => {
    const many = Array.from({ length: 20 }, (_, i) => entry({ name: `output/f${i}`, data: 'x' }));
    const r = await extractTar(chunked(tar(...many)), dest, { ...limits, maxEntries: 10 });
    expect(r.stopped).toBe('more than 10 entries');
    expect(fs.readdirSync(dest)).toHaveLength(10);
  });

  it('a truncated archive: the complete files are kept, the cut one removed, and it says so', async () => {
    const whole = tar(entry({ name: 'output/first', data: 'first' }), entry({ name: 'output/second', data: Buffer.alloc(2000, 2) }));
    const r = await extractTar(chunked(whole.subarray(0, 512 * 3 + 100)), dest, limits);
    expect(r.stopped).toMatch(/truncated/);
    expect(r.skipped).toEqual([{ path: 'second', reason: expect.stringMatching(/cut short/) }]);
    expect(fs.readdirSync(dest)).toEqual(['first']);
    expect(r).toMatchObject({ files: 1, bytes: 5 });
  });

  it('a corrupt header (wrong checksum) or garbage ends the reading; a name seen twice is not overwritten', async () => {
    const bad = entry({ name: 'output/x', data: 'x' });
    bad[0] = 'y'.charCodeAt(0);
    const r1 = await extractTar(chunked(tar(entry({ name: 'output/a', data: 'one' }), entry({ name: 'output/a', data: 'two' }), bad)), dest, limits);
    expect(r1.stopped).toMatch(/checksum/);
    expect(r1.skipped).toEqual([{ path: 'a', reason: expect.stringMatching(/already taken/) }]);
    expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('one');
    const r2 = await extractTar(chunked(Buffer.alloc(4096, 0x41)), `${dest}2`, limits);
    expect(r2.stopped).toMatch(/checksum/);
  });

  it('a file where a folder must be, and a folder where a file is: skipped', async () => {
    const r = await extractTar(chunked(tar(entry({ name: 'output/a', data: 'file' }), entry({ name: 'output/a/b', data: 'under a file' }), entry({ name: 'output/d/', type: '5' }), entry({ name: 'output/d', data: 'over a dir' }))), dest, limits);
    expect(r.skipped.map((s) => s.path)).toEqual(['a/b', 'd']);
    expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('file');
    expect(fs.statSync(path.join(dest, 'd')).isDirectory()).toBe(true);
  });
});

describe('the output volume and its keeper', () => {
  it('the volume is a tmpfs capped in size and files, owned by the job user, nosuid and nodev', () => {
    expect(outputVolumeOptions(8, 65534, 65534)).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=8m,nr_inodes=1024,uid=65534,gid=65534,mode=0700,nosuid,nodev' });
    expect(outputEntryCap(100)).toBe(6400);
    expect(outputEntryCap(1_000_000)).toBe(100_000);
  });
  it('the keeper is hardened like a job: no network, read-only, no capabilities, small limits, not root', () => {
    const spec = keeperSpec('j1', 'sha256:' + 'b'.repeat(64), 8, { agentInstance: 'a1', uid: 65534, gid: 65534 });
    expect(spec).toMatchObject({ name: 'offshift-output-j1', User: '65534:65534', NetworkDisabled: true, Labels: { 'io.offshift.agent': 'a1', 'io.offshift.output': 'j1', 'io.offshift.output-mib': '8' } });
    expect(spec.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], Privileged: false, PidsLimit: 4, Memory: 16 * 1024 * 1024 });
    expect(spec.HostConfig!.Mounts).toEqual([{ Type: 'volume', Source: 'offshift-output-j1', Target: '/output', ReadOnly: true, VolumeOptions: { NoCopy: true } }]);
    // Never the job's managed label: recovery must not take the keeper for a job's container.
    expect(spec.Labels!['io.offshift.managed']).toBeUndefined();
    expect(() => keeperSpec('j1', 'x', 8, { agentInstance: 'a1', uid: 0, gid: 0 })).toThrow(/root/);
  });
  it('mounting is chosen by the effective CAP_SYS_ADMIN, not by uid', () => {
    expect(hasSysAdmin('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(true);
    // The system service: CAP_NET_ADMIN (bit 12) only.
    expect(hasSysAdmin('CapEff:\t0000000000001000\n')).toBe(false);
    expect(hasSysAdmin('CapEff:\t0000000000200000\n')).toBe(true);
    expect(hasSysAdmin('no such line')).toBe(false);
  });
});
