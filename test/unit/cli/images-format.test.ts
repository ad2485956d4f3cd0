import { describe, expect, it } from 'vitest';
import { formatDisk, formatEta, formatGiBOf, formatOfTotal, formatRate, pullLine } from '../../../runtime/images/figures.js';
import {
  availableSummary,
  budgetText,
  formatAgo,
  imagesTable,
  listText,
  pruneText,
  usageSummary,
} from '../../../runtime/cli/commands/images-format.js';
import { budgetPatch } from '../../../runtime/cli/commands/images.js';
import { parseArgs, argSpecFromUsage } from '../../../runtime/cli/args.js';
import type { ImageRecord, ImagesView } from '../../../runtime/images/schema.js';

const GiB = 1024 ** 3;
const NOW = Date.UTC(2026, 0, 10, 12);
const DAY = 86_400_000;
const digest = (c: string) => 'sha256:' + c.repeat(64);
const image = (over: Partial<ImageRecord>): ImageRecord => ({
  digest: digest('a'),
  repository: 'registry.example.com/team/render',
  ref: `registry.example.com/team/render@${digest('a')}`,
  imageId: digest('f'),
  sizeBytes: 8.2 * GiB,
  compressedBytes: 3 * GiB,
  pulledAt: NOW - 10 * DAY,
  lastUsedAt: NOW - 3 * DAY,
  jobsRun: 14,
  pinned: false,
  inUse: false,
  warm: true,
  prePulled: false,
  ...over,
});
const usage = (u: Partial<ImagesView['usage']> = {}): ImagesView['usage'] => ({
  usedBytes: 12.3 * GiB,
  budgetBytes: 64 * GiB,
  freeDiskBytes: 310 * GiB,
  diskTotalBytes: 1024 * GiB,
  minFreeBytes: 32 * GiB,
  availableBytes: 51.7 * GiB,
  ...u,
});
const settings = { budgetGiB: 64, minFreeGiB: 32, pullWhileOwnerActive: false, prePull: true, registryMirror: null };
const view = (over: Partial<ImagesView> = {}): ImagesView => ({ effective: settings, locked: [], user: {}, usage: usage(), images: [], pulls: [], downloadBytesPerSecond: null, lastPrune: null, problem: null, ...over });

describe('offshift images: formatting', () => {
  it('sizes on disk in binary units, downloads in decimal ones', () => {
    expect(formatDisk(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatDisk(12.34 * GiB)).toBe('12.3 GiB');
    expect(formatDisk(64 * GiB)).toBe('64 GiB');
    expect(formatDisk(310 * GiB)).toBe('310 GiB');
    expect(formatDisk(1900 * GiB)).toBe('1.9 TiB');
    expect(formatGiBOf(12.3 * GiB, 64 * GiB)).toBe('12.3 of 64 GiB');
    expect(formatOfTotal(1.2e9, 4.8e9)).toBe('1.2 of 4.8 GB');
    expect(formatOfTotal(12e6, 26.6e6)).toBe('12 of 27 MB');
    expect(formatRate(38e6)).toBe('38 MB/s');
  });

  it('the time left and the time since, in words', () => {
    expect(formatEta(3)).toBe('a few seconds left');
    expect(formatEta(95)).toBe('about 1 min 35 s left');
    expect(formatEta(4320)).toBe('about 1 h 12 min left');
    expect(formatAgo(null, NOW)).toBe('never');
    expect(formatAgo(NOW - 42_000, NOW)).toBe('42 s ago');
    expect(formatAgo(NOW - 3 * DAY, NOW)).toBe('3 d ago');
  });

  it("a pull's line: bytes of the total, rate and time left, else the agent's detail", () => {
    expect(pullLine({ bytes: 1.2e9, totalBytes: 4.8e9, bytesPerSecond: 38e6, etaSeconds: 95 })).toBe('Pulling the image: 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left');
    expect(pullLine({ bytes: 3e8, totalBytes: null, bytesPerSecond: null, etaSeconds: null })).toBe('Pulling the image: 300 MB so far');
    expect(pullLine({ detail: 'Pulling the image: 45% (12.0 of 26.6 MB, 1 of 3 layers done)' })).toBe('Pulling the image: 45% (12.0 of 26.6 MB, 1 of 3 layers done)');
  });

  it('the summary line, and what may still be pulled or why nothing may', () => {
    expect(usageSummary(usage())).toBe("Offshift's images: 12.3 of 64 GiB budget · 310 GiB free on the engine's disk (floor 32 GiB)");
    expect(usageSummary(usage({ freeDiskBytes: null, diskTotalBytes: null }))).toBe("Offshift's images: 12.3 of 64 GiB budget · the engine's disk cannot be read from here (floor 32 GiB)");
    expect(availableSummary(usage())).toBe('May still pull 51.7 GiB of images without removing any.');
    expect(availableSummary(usage({ usedBytes: 64 * GiB, availableBytes: 0 }))).toMatch(/the budget is full. `offshift images prune` removes the unused ones/);
    expect(availableSummary(usage({ freeDiskBytes: 30 * GiB, availableBytes: 0 }))).toMatch(/down to the 32 GiB kept free. Free space on it, or lower the floor/);
  });

  it('the table: REPOSITORY DIGEST SIZE LAST USED JOBS PINNED WARM, most recently used first', () => {
    const table = imagesTable(
      [
        image({}),
        image({ digest: digest('b'), repository: '127.0.0.1:5000/offshift-test/pull', sizeBytes: 700 * 1024 ** 2, lastUsedAt: NOW - 60_000, jobsRun: 2, pinned: true, warm: false }),
        image({ digest: digest('c'), imageId: null, sizeBytes: 0, lastUsedAt: null, pulledAt: null, jobsRun: 0, warm: false }),
      ],
      NOW,
    );
    expect(table.split('\n')).toEqual([
      'REPOSITORY                         DIGEST        SIZE     LAST USED  JOBS  PINNED  WARM',
      '---------------------------------  ------------  -------  ---------  ----  ------  ----',
      '127.0.0.1:5000/offshift-test/pull  bbbbbbbbbbbb  700 MiB  1 min ago  2     yes     -',
      'registry.example.com/team/render   aaaaaaaaaaaa  8.2 GiB  3 d ago    14    -       yes',
      'registry.example.com/team/render   cccccccccccc  partial  never      0     -       -',
      '',
    ]);
  });

  it('images list: the summary first, then the table, or what the store is for when it is empty', () => {
    const empty = listText(view(), NOW);
    expect(empty.split('\n')[0]).toBe("Offshift's images: 12.3 of 64 GiB budget · 310 GiB free on the engine's disk (floor 32 GiB)");
    expect(empty).toContain('No images yet. Offshift keeps the images that jobs pull here, within the budget');
    expect(empty).toContain('it never touches your own Docker images');
    const full = listText(
      view({
        images: [image({})],
        pulls: [{ ref: `registry.example.com/team/big@${digest('d')}`, jobId: '1234abcd-0000', bytes: 1.2e9, totalBytes: 4.8e9, bytesPerSecond: 38e6, etaSeconds: 95, startedAt: NOW - 30_000 }],
        problem: 'Docker is not running.',
        lastPrune: { at: NOW - 7_200_000, trigger: 'watermark', removed: [{ ref: 'x@sha256:1', sizeBytes: 2 * GiB }], freedBytes: 2 * GiB },
      }),
      NOW,
    );
    expect(full).toContain('Problem: Docker is not running.');
    expect(full).toContain('Downloading registry.example.com/team/big (for job 1234abcd, started 30 s ago): 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left');
    expect(full).toContain('REPOSITORY');
    expect(full).toContain('Last removal 2 h ago (past the high mark): 1 image, 2 GiB freed.');
  });

  it('images prune: what went, or why nothing did', () => {
    expect(pruneText({ at: NOW, trigger: 'manual', removed: [{ ref: 'a@sha256:1', sizeBytes: 3 * GiB }, { ref: 'b@sha256:2', sizeBytes: GiB }], freedBytes: 4 * GiB }, true)).toBe(
      'Removed 2 images, 4 GiB freed:\n  a@sha256:1  3 GiB\n  b@sha256:2  1 GiB\n',
    );
    expect(pruneText({ at: NOW, trigger: 'manual', removed: [], freedBytes: 0 }, true)).toBe('Nothing removed: every image is used by a job.\n');
    expect(pruneText({ at: NOW, trigger: 'manual', removed: [], freedBytes: 0 }, false)).toBe(
      'Nothing removed: every image is pinned or used by a job (`offshift images prune --all` removes pinned ones too).\n',
    );
  });

  it('images budget: each setting, a locked one marked, and the usage when the agent gave it', () => {
    const text = budgetText(settings, ['images.minFreeGiB'], usage());
    expect(text).toContain('Budget:                              64 GiB\n');
    expect(text).toContain("Keep free on the engine's disk:      32 GiB (set by your administrator)\n");
    expect(text).toContain('Registry mirror:                     none\n');
    expect(text).toContain("Offshift's images: 12.3 of 64 GiB budget");
    expect(budgetText(settings, [], null)).not.toContain("Offshift's images");
  });

  it('images budget: --set-gib and --min-free-gib become a patch, out-of-range values a usage error', () => {
    const spec = argSpecFromUsage('images budget [--set-gib N] [--min-free-gib N] [--json]');
    expect(budgetPatch(parseArgs(['--set-gib', '100', '--min-free-gib', '16'], spec))).toEqual({ budgetGiB: 100, minFreeGiB: 16 });
    expect(budgetPatch(parseArgs([], spec))).toEqual({});
    expect(() => budgetPatch(parseArgs(['--set-gib', '0'], spec))).toThrow('--set-gib is 0.01 to 65536 (GiB), not 0.');
    expect(() => budgetPatch(parseArgs(['--min-free-gib', '-1'], spec))).toThrow('--min-free-gib is 0 to 65536 (GiB), not -1.');
    expect(() => budgetPatch(parseArgs(['--set-gib', 'lots'], spec))).toThrow('--set-gib must be a number');
  });
});
