import { describe, expect, it } from 'vitest';
import type { ImageRecord, ImagesView } from '../../../runtime/images/schema.js';
import {
  availableLine,
  diskBar,
  formatDisk,
  formatEta,
  formatOfTotal,
  formatRate,
  pullFraction,
  pullLine,
  settingsDraft,
  settingsPatch,
  shortDigest,
  shortRepository,
  unusedImages,
  withLiveProgress,
} from '../../../renderer/src/lib/images.js';

const GiB = 1024 ** 3;
type Usage = ImagesView['usage'];
const usage = (u: Partial<Usage>): Usage => ({ usedBytes: 0, budgetBytes: 64 * GiB, freeDiskBytes: null, diskTotalBytes: null, minFreeBytes: 32 * GiB, availableBytes: 0, ...u });
const image = (over: Partial<ImageRecord>): ImageRecord => ({
  digest: 'sha256:' + 'a'.repeat(64),
  repository: 'registry.example.com/team/render',
  ref: 'registry.example.com/team/render@sha256:' + 'a'.repeat(64),
  imageId: 'sha256:' + 'b'.repeat(64),
  sizeBytes: GiB,
  compressedBytes: GiB / 2,
  pulledAt: 1,
  lastUsedAt: 2,
  jobsRun: 1,
  pinned: false,
  inUse: false,
  warm: false,
  prePulled: false,
  ...over,
});

describe('the Images page helpers', () => {
  it('the disk bar: other files, Offshift’s images, what may still be pulled, free space, the floor; parts add up to the disk', () => {
    // 1 TiB disk, 310 GiB free, 12 GiB of Offshift's images, budget 64 GiB: the budget bounds the room (52 GiB).
    const u = usage({ usedBytes: 12 * GiB, freeDiskBytes: 310 * GiB, diskTotalBytes: 1024 * GiB, availableBytes: 52 * GiB });
    const bar = diskBar(u);
    expect(bar.diskKnown).toBe(true);
    expect(bar.segments.map((s) => [s.kind, s.bytes / GiB])).toEqual([
      ['others', 1024 - 310 - 12],
      ['offshift', 12],
      ['room', 52],
      ['free', 310 - 32 - 52],
      ['floor', 32],
    ]);
    expect(bar.segments.reduce((n, s) => n + s.fraction, 0)).toBeCloseTo(1, 10);
    const floor = bar.markers.find((m) => m.kind === 'floor')!;
    expect(floor.at).toBeCloseTo((1024 - 32) / 1024, 10);
    // The budget marker stands where the images would end when they fill it: right after the room.
    const budget = bar.markers.find((m) => m.kind === 'budget')!;
    expect(budget.at).toBeCloseTo((1024 - 310 + 52) / 1024, 10);
    expect(budget.label).toBe('budget 64 GiB');
  });

  it('the disk bar on a disk below its floor: no room, the floor is what is free, the marker inside the used part', () => {
    const u = usage({ usedBytes: 20 * GiB, freeDiskBytes: 10 * GiB, diskTotalBytes: 500 * GiB, availableBytes: 0 });
    const bar = diskBar(u);
    expect(bar.segments.map((s) => s.kind)).toEqual(['others', 'offshift', 'floor']);
    expect(bar.segments.find((s) => s.kind === 'floor')!.bytes).toBe(10 * GiB);
    expect(bar.markers.find((m) => m.kind === 'floor')!.at).toBeCloseTo(468 / 500, 10);
  });

  it('figures read at different moments never make the parts outgrow the bar', () => {
    const bar = diskBar(usage({ usedBytes: 60 * GiB, freeDiskBytes: 50 * GiB, diskTotalBytes: 100 * GiB, availableBytes: 4 * GiB }));
    expect(bar.totalBytes).toBe(110 * GiB);
    expect(bar.segments.every((s) => s.bytes > 0)).toBe(true);
    expect(bar.segments.reduce((n, s) => n + s.fraction, 0)).toBeCloseTo(1, 10);
  });

  it('without a reading of the engine’s disk (a remote engine) the bar is the budget', () => {
    const bar = diskBar(usage({ usedBytes: 16 * GiB, availableBytes: 48 * GiB }));
    expect(bar.diskKnown).toBe(false);
    expect(bar.segments.map((s) => [s.kind, s.fraction])).toEqual([
      ['offshift', 0.25],
      ['room', 0.75],
    ]);
    expect(bar.markers).toEqual([{ kind: 'budget', at: 1, label: 'budget 64 GiB' }]);
  });

  it('says what may still be pulled and what bounds it, or why nothing may', () => {
    expect(availableLine(usage({ usedBytes: 12 * GiB, freeDiskBytes: 310 * GiB, diskTotalBytes: 1024 * GiB, availableBytes: 52 * GiB }))).toBe(
      'Offshift may still pull 52 GiB of images: what is left of the 64 GiB budget.',
    );
    expect(availableLine(usage({ usedBytes: 12 * GiB, freeDiskBytes: 40 * GiB, diskTotalBytes: 1024 * GiB, availableBytes: 8 * GiB }))).toBe(
      "Offshift may still pull 8 GiB of images: the engine's free disk above the 32 GiB kept free; the budget would allow 52 GiB.",
    );
    expect(availableLine(usage({ usedBytes: 64 * GiB, freeDiskBytes: 300 * GiB, diskTotalBytes: 1024 * GiB }))).toMatch(/^Nothing more may be pulled: Offshift's images fill the 64 GiB budget. Remove unused images or raise the budget/);
    expect(availableLine(usage({ usedBytes: 10 * GiB, freeDiskBytes: 20 * GiB, diskTotalBytes: 1024 * GiB }))).toMatch(/the engine's disk is down to the 32 GiB Offshift keeps free. Free space on that disk, or lower the floor/);
    expect(availableLine(usage({ usedBytes: 16 * GiB, availableBytes: 48 * GiB }))).toContain("the engine's disk cannot be read from here");
  });

  it('sizes on disk in binary units, downloads in decimal ones', () => {
    expect(formatDisk(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatDisk(12.34 * GiB)).toBe('12.3 GiB');
    expect(formatDisk(310 * GiB)).toBe('310 GiB');
    expect(formatDisk(1900 * GiB)).toBe('1.9 TiB');
    expect(formatOfTotal(1.2e9, 4.8e9)).toBe('1.2 of 4.8 GB');
    expect(formatOfTotal(300e6, 4.8e9)).toBe('0.3 of 4.8 GB');
    expect(formatOfTotal(12e6, 26.6e6)).toBe('12 of 27 MB');
    expect(formatRate(38e6)).toBe('38 MB/s');
    expect(formatRate(2.5e6)).toBe('2.5 MB/s');
  });

  it('the time left in words', () => {
    expect(formatEta(2)).toBe('a few seconds left');
    expect(formatEta(42)).toBe('about 42 s left');
    expect(formatEta(95)).toBe('about 1 min 35 s left');
    expect(formatEta(4320)).toBe('about 1 h 12 min left');
  });

  it('a pull’s line: bytes of the total, rate and time left from the event, else the agent’s detail', () => {
    expect(pullLine({ bytes: 1.2e9, totalBytes: 4.8e9, bytesPerSecond: 38e6, etaSeconds: 95, detail: 'x' })).toBe('Pulling the image: 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left');
    expect(pullLine({ bytes: 1.2e9, totalBytes: null, bytesPerSecond: null, etaSeconds: null })).toBe('Pulling the image: 1.2 GB so far');
    expect(pullLine({ detail: 'Pulling the image: 45% (12.0 of 26.6 MB, 1 of 3 layers done)' })).toBe('Pulling the image: 45% (12.0 of 26.6 MB, 1 of 3 layers done)');
    expect(pullFraction({ bytes: 1.2e9, totalBytes: 4.8e9 })).toBe(0.25);
    expect(pullFraction({ fraction: 0.4 })).toBe(0.4);
    expect(pullFraction({ bytes: 5, totalBytes: null, fraction: null })).toBeNull();
  });

  it('a pull of images.list takes its job’s newer job.progress figures, never older ones', () => {
    const pull = { ref: 'r@sha256:1', jobId: 'job-1', bytes: 100, totalBytes: 1000, bytesPerSecond: 10, etaSeconds: 90, startedAt: 0 };
    const pre = { ...pull, jobId: null, ref: 'p@sha256:2' };
    const live = { 'job-1': { bytes: 400, totalBytes: 1000, bytesPerSecond: 20, etaSeconds: null } };
    expect(withLiveProgress([pull, pre], live)).toEqual([{ ...pull, bytes: 400, bytesPerSecond: 20, etaSeconds: null }, pre]);
    expect(withLiveProgress([{ ...pull, bytes: 500 }], live)[0]!.bytes).toBe(500);
    expect(withLiveProgress([pull], { 'job-1': { detail: 'no figures' } })[0]).toEqual(pull);
  });

  it('short names: the repository without its registry, 12 digits of the digest', () => {
    expect(shortRepository('registry.example.com/team/render')).toBe('team/render');
    expect(shortRepository('127.0.0.1:5000/offshift-test/pull')).toBe('offshift-test/pull');
    expect(shortRepository('docker.io/library/ubuntu')).toBe('ubuntu');
    expect(shortRepository('team/render')).toBe('team/render');
    expect(shortDigest('sha256:3f2a9c81b7d4e5f60718293a4b5c6d7e8f90')).toBe('3f2a9c81b7d4');
  });

  it('what "Remove unused images" removes: neither pinned nor in use, with their size and how many are warm', () => {
    const list = [image({ digest: 'a', sizeBytes: 3 }), image({ digest: 'b', pinned: true }), image({ digest: 'c', inUse: true }), image({ digest: 'd', sizeBytes: 4, warm: true })];
    const u = unusedImages(list);
    expect(u.images.map((i) => i.digest)).toEqual(['a', 'd']);
    expect(u.bytes).toBe(7);
    expect(u.warm).toBe(1);
  });

  it('the settings form: only what changed and is not locked, or what is wrong in words', () => {
    const current = { budgetGiB: 64, minFreeGiB: 32, pullWhileOwnerActive: false, prePull: true, registryMirror: null };
    const draft = settingsDraft(current);
    expect(settingsPatch(draft, current, [])).toEqual({ ok: true, patch: {} });
    expect(settingsPatch({ ...draft, budgetGiB: '100', prePull: false, registryMirror: ' registry.studio.lan:5000 ' }, current, [])).toEqual({
      ok: true,
      patch: { budgetGiB: 100, prePull: false, registryMirror: 'registry.studio.lan:5000' },
    });
    expect(settingsPatch({ ...draft, budgetGiB: '100', minFreeGiB: '8' }, current, ['images.minFreeGiB'])).toEqual({ ok: true, patch: { budgetGiB: 100 } });
    expect(settingsPatch({ ...draft, budgetGiB: '0' }, current, [])).toEqual({ ok: false, why: 'The budget is 1 to 65,536 GiB; "0" is not.' });
    expect(settingsPatch({ ...draft, minFreeGiB: '' }, current, [])).toMatchObject({ ok: false });
    expect(settingsPatch({ ...draft, registryMirror: 'not a host/with/path' }, current, [])).toEqual({
      ok: false,
      why: 'Registry mirror: a registry mirror is host[:port], e.g. registry.studio.lan:5000 or http://10.0.0.5:5000.',
    });
  });
});
