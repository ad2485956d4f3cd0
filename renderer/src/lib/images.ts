/**
 * Pure helpers of the Images page and of a pull's progress on the Jobs page: the engine's disk as
 * bar segments, sizes, rates, what may still be pulled, what a prune would remove.
 *
 * Units: what lies on the disk is in binary units (GiB, as the budget is set), what comes over the
 * network in decimal ones (GB, MB/s, as registries and `docker pull` count).
 */
import { registryMirrorSchema, type ImagePatch, type ImagePull, type ImageRecord, type ImageSettings, type ImagesView } from '../../../runtime/images/schema.js';
import { formatDisk, formatDownload, formatEta, formatOfTotal, formatRate, pullLine, type PullFigures } from '../../../runtime/images/schema.js';
import { formatSince } from './format.js';

export { formatDisk, formatDownload, formatEta, formatOfTotal, formatRate, pullLine, type PullFigures };

type Usage = ImagesView['usage'];



/** 0…1 for a progress bar, or null while the total is not known. */
export function pullFraction(p: PullFigures & { fraction?: number | null }): number | null {
  if (p.bytes !== undefined && p.totalBytes) return Math.min(1, p.bytes / p.totalBytes);
  return p.fraction ?? null;
}

/**
 * The pulls images.list gave, each with its job's newest `job.progress` when that is further along:
 * the events come every quarter second, the list every few.
 */
export function withLiveProgress(pulls: readonly ImagePull[], live: Readonly<Record<string, PullFigures>>): ImagePull[] {
  return pulls.map((p) => {
    const e = p.jobId === null ? undefined : live[p.jobId];
    if (e?.bytes === undefined || e.bytes < p.bytes) return p;
    return { ...p, bytes: e.bytes, totalBytes: or(e.totalBytes, p.totalBytes), bytesPerSecond: or(e.bytesPerSecond, p.bytesPerSecond), etaSeconds: or(e.etaSeconds, p.etaSeconds) };
  });
}

/** An event's field when it has one (null included: "not known now"), else what was known. */
function or<T>(value: T | undefined, old: T): T {
  return value === undefined ? old : value;
}

export type SegmentKind = 'others' | 'offshift' | 'room' | 'free' | 'floor';

export interface BarSegment {
  kind: SegmentKind;
  bytes: number;
  /** Of the whole bar, 0…1. */
  fraction: number;
  label: string;
}

export interface BarMarker {
  kind: 'floor' | 'budget';
  /** Where it stands along the bar, 0…1. */
  at: number;
  label: string;
}

export interface DiskBar {
  /** The engine's disk was measured (else the bar is the budget alone). */
  diskKnown: boolean;
  totalBytes: number;
  segments: BarSegment[];
  markers: BarMarker[];
}

const LABELS: Record<SegmentKind, string> = {
  others: 'Used by other files',
  offshift: "Offshift's images",
  room: 'Offshift may still pull',
  free: 'Free, beyond the budget',
  floor: 'Kept free (the floor)',
};

/**
 * The engine's disk as it fills from the left: other files, Offshift's images, what Offshift may
 * still pull, free space it will not use, and the floor kept free at the right end. The budget
 * marker stands where Offshift's images would end when they fill it. Without a disk reading, the
 * bar is the budget: Offshift's images and what may still be pulled.
 */
export function diskBar(u: Usage): DiskBar {
  const diskKnown = u.freeDiskBytes !== null && u.diskTotalBytes !== null && u.diskTotalBytes > 0;
  let parts: [SegmentKind, number][];
  let total: number;
  const markers: BarMarker[] = [];
  if (!diskKnown) {
    total = Math.max(u.budgetBytes, u.usedBytes, 1);
    const room = Math.min(u.availableBytes, Math.max(0, u.budgetBytes - u.usedBytes));
    parts = [
      ['offshift', u.usedBytes],
      ['room', room],
      ['free', Math.max(0, total - u.usedBytes - room)],
    ];
    markers.push({ kind: 'budget', at: u.budgetBytes / total, label: `budget ${formatDisk(u.budgetBytes)}` });
  } else {
    const free = u.freeDiskBytes!;
    // The engine's figures are read at different moments: never let the parts outgrow the whole.
    total = Math.max(u.diskTotalBytes!, u.usedBytes + free);
    const floor = Math.min(free, u.minFreeBytes);
    const room = Math.min(u.availableBytes, free - floor);
    parts = [
      ['others', total - free - u.usedBytes],
      ['offshift', u.usedBytes],
      ['room', room],
      ['free', free - floor - room],
      ['floor', floor],
    ];
    const others = total - free - u.usedBytes;
    if (u.minFreeBytes > 0 && u.minFreeBytes <= total) markers.push({ kind: 'floor', at: (total - u.minFreeBytes) / total, label: `floor ${formatDisk(u.minFreeBytes)} free` });
    if (others + u.budgetBytes <= total) markers.push({ kind: 'budget', at: (others + u.budgetBytes) / total, label: `budget ${formatDisk(u.budgetBytes)}` });
  }
  const segments = parts
    .filter(([, bytes]) => bytes > 0)
    .map(([kind, bytes]) => ({ kind, bytes, fraction: bytes / total, label: LABELS[kind] }));
  return { diskKnown, totalBytes: total, segments, markers };
}

/** The line under the bar: what may still be pulled, and what bounds it. */
export function availableLine(u: Usage): string {
  const budgetLeft = Math.max(0, u.budgetBytes - u.usedBytes);
  const budget = formatDisk(u.budgetBytes);
  if (u.availableBytes > 0) {
    const byBudget = u.freeDiskBytes === null || budgetLeft <= u.availableBytes;
    const bound = byBudget
      ? `what is left of the ${budget} budget${u.freeDiskBytes === null ? " (the engine's disk cannot be read from here)" : ''}`
      : `the engine's free disk above the ${formatDisk(u.minFreeBytes)} kept free; the budget would allow ${formatDisk(budgetLeft)}`;
    return `Offshift may still pull ${formatDisk(u.availableBytes)} of images: ${bound}.`;
  }
  if (budgetLeft <= 0) return `Nothing more may be pulled: Offshift's images fill the ${budget} budget. Remove unused images or raise the budget; a job that needs a new image first removes the least recently used unpinned ones.`;
  return `Nothing more may be pulled: the engine's disk is down to the ${formatDisk(u.minFreeBytes)} Offshift keeps free. Free space on that disk, or lower the floor.`;
}

/** "registry.example.com/team/render" → "team/render"; Docker Hub's "library/" dropped. */
export function shortRepository(repository: string): string {
  const parts = repository.split('/');
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  if (parts[0] === 'library' && parts.length > 1) parts.shift();
  const short = parts.join('/');
  return short.length > 40 ? `…${short.slice(-39)}` : short;
}

/** "sha256:3f2a9c81b7d4…" → "3f2a9c81b7d4" (12 hex digits, as Docker shows image ids). */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** "3 d ago", "never". */
export function lastUsedText(lastUsedAt: number | null, now: number): string {
  return lastUsedAt === null ? 'never' : formatSince(new Date(lastUsedAt).toISOString(), now);
}

/** What "Remove unused images" removes: every image neither pinned nor used by a job. */
export function unusedImages(images: readonly ImageRecord[]): { images: ImageRecord[]; bytes: number; warm: number } {
  const unused = images.filter((i) => !i.pinned && !i.inUse);
  return { images: unused, bytes: unused.reduce((n, i) => n + i.sizeBytes, 0), warm: unused.filter((i) => i.warm).length };
}

/** The settings form as typed: numbers as text, the mirror empty for none. */
export interface SettingsDraft {
  budgetGiB: string;
  minFreeGiB: string;
  pullWhileOwnerActive: boolean;
  prePull: boolean;
  registryMirror: string;
}

export function settingsDraft(s: ImageSettings): SettingsDraft {
  return { budgetGiB: String(s.budgetGiB), minFreeGiB: String(s.minFreeGiB), pullWhileOwnerActive: s.pullWhileOwnerActive, prePull: s.prePull, registryMirror: s.registryMirror ?? '' };
}

/**
 * What the form changes (fields the administrator locked are left out), or what is wrong with it
 * in words the owner can act on.
 */
export function settingsPatch(draft: SettingsDraft, current: ImageSettings, locked: readonly string[]): { ok: true; patch: ImagePatch } | { ok: false; why: string } {
  const open = (field: keyof ImageSettings) => !locked.some((l) => l === `images.${field}` || l === 'images');
  const budget = Number(draft.budgetGiB);
  const floor = Number(draft.minFreeGiB);
  if (draft.budgetGiB.trim() === '' || !Number.isFinite(budget) || budget < 1 || budget > 65536) return { ok: false, why: `The budget is 1 to 65,536 GiB; "${draft.budgetGiB}" is not.` };
  if (draft.minFreeGiB.trim() === '' || !Number.isFinite(floor) || floor < 0 || floor > 65536) return { ok: false, why: `The free space to keep is 0 to 65,536 GiB; "${draft.minFreeGiB}" is not.` };
  const mirrorText = draft.registryMirror.trim();
  const mirror = mirrorText === '' ? null : mirrorText;
  if (mirror !== null) {
    const r = registryMirrorSchema.safeParse(mirror);
    if (!r.success) return { ok: false, why: `Registry mirror: ${r.error.issues[0]?.message ?? 'not a host[:port]'}.` };
  }
  const next: ImageSettings = { budgetGiB: budget, minFreeGiB: floor, pullWhileOwnerActive: draft.pullWhileOwnerActive, prePull: draft.prePull, registryMirror: mirror };
  const patch: Record<string, unknown> = {};
  for (const field of Object.keys(next) as (keyof ImageSettings)[]) {
    if (open(field) && next[field] !== current[field]) patch[field] = next[field];
  }
  return { ok: true, patch: patch as ImagePatch };
}
