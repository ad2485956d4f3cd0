/**
 * How `offshift images` and `offshift job run` put the image store in text: sizes, rates, the
 * time left, the table and the summary line. Pure. What lies on the disk is in binary units (GiB,
 * as the budget is set), what comes over the network in decimal ones (GB, MB/s, as registries and
 * `docker pull` count); the dashboard says the same (renderer/src/lib/images.ts).
 */
import type { ImagePull, ImageRecord, ImagesView, PruneResult } from '../../images/schema.js';
import { formatDisk, formatGiBOf, pullLine } from '../../images/figures.js';
import { formatTable } from '../table.js';

/** "42 s ago", "5 min ago", "3 h ago", "2 d ago", "never". */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** 12 hex digits, as Docker shows image ids. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** REPOSITORY DIGEST SIZE LAST USED JOBS PINNED WARM, most recently used first. */
export function imagesTable(images: readonly ImageRecord[], now: number): string {
  const sorted = [...images].sort((a, b) => (b.lastUsedAt ?? b.pulledAt ?? 0) - (a.lastUsedAt ?? a.pulledAt ?? 0));
  return formatTable(
    ['REPOSITORY', 'DIGEST', 'SIZE', 'LAST USED', 'JOBS', 'PINNED', 'WARM'],
    sorted.map((i) => [
      i.repository,
      shortDigest(i.digest),
      i.imageId === null ? 'partial' : formatDisk(i.sizeBytes),
      formatAgo(i.lastUsedAt, now),
      String(i.jobsRun),
      i.pinned ? 'yes' : '-',
      i.warm ? 'yes' : '-',
    ]),
  );
}

/** "Offshift's images: 12.3 of 64 GiB budget · 310 GiB free on the engine's disk (floor 32 GiB)". */
export function usageSummary(u: ImagesView['usage']): string {
  const disk = u.freeDiskBytes === null ? "the engine's disk cannot be read from here" : `${formatDisk(u.freeDiskBytes)} free on the engine's disk`;
  return `Offshift's images: ${formatGiBOf(u.usedBytes, u.budgetBytes)} budget · ${disk} (floor ${formatDisk(u.minFreeBytes)})`;
}

/** What may still be pulled, or why nothing may and what to do. */
export function availableSummary(u: ImagesView['usage']): string {
  if (u.availableBytes > 0) return `May still pull ${formatDisk(u.availableBytes)} of images without removing any.`;
  if (u.usedBytes >= u.budgetBytes) return 'Nothing more may be pulled: the budget is full. `offshift images prune` removes the unused ones, `offshift images budget --set-gib N` raises it.';
  return `Nothing more may be pulled: the engine's disk is down to the ${formatDisk(u.minFreeBytes)} kept free. Free space on it, or lower the floor with \`offshift images budget --min-free-gib N\`.`;
}

/** One line per download in progress. */
export function pullsLines(pulls: readonly ImagePull[], now: number): string[] {
  return pulls.map((p) => {
    const why = p.jobId === null ? 'pre-pull' : `for job ${p.jobId.slice(0, 8)}`;
    return `Downloading ${p.ref.split('@')[0]} (${why}, started ${formatAgo(p.startedAt, now)}): ${pullLine(p).replace(/^Pulling the image: /, '')}`;
  });
}

const TRIGGER: Record<PruneResult['trigger'], string> = { watermark: 'past the high mark', manual: 'asked for', fit: 'to make room for a download', budget: 'the budget was lowered' };

/** `offshift images list` in text: the summary, what may be pulled, downloads, the table (or what the page is for), the last removal, the problem. */
export function listText(view: ImagesView, now: number): string {
  const lines = [usageSummary(view.usage), availableSummary(view.usage)];
  if (view.problem) lines.push(`Problem: ${view.problem}`);
  lines.push(...pullsLines(view.pulls, now));
  lines.push('');
  if (view.images.length === 0) {
    lines.push("No images yet. Offshift keeps the images that jobs pull here, within the budget, so the next job for one starts without a download; it never touches your own Docker images.");
  } else {
    lines.push(imagesTable(view.images, now).trimEnd());
  }
  const last = view.lastPrune;
  if (last && last.removed.length > 0) lines.push('', `Last removal ${formatAgo(last.at, now)} (${TRIGGER[last.trigger]}): ${last.removed.length} image${last.removed.length === 1 ? '' : 's'}, ${formatDisk(last.freedBytes)} freed.`);
  return lines.join('\n') + '\n';
}

/** `offshift images prune` in text. */
export function pruneText(result: PruneResult, all: boolean): string {
  if (result.removed.length === 0) {
    return all ? 'Nothing removed: every image is used by a job.\n' : 'Nothing removed: every image is pinned or used by a job (`offshift images prune --all` removes pinned ones too).\n';
  }
  const list = result.removed.map((r) => `  ${r.ref}  ${formatDisk(r.sizeBytes)}`);
  return `Removed ${result.removed.length} image${result.removed.length === 1 ? '' : 's'}, ${formatDisk(result.freedBytes)} freed:\n${list.join('\n')}\n`;
}

/** `offshift images budget` in text: each setting (a locked one says so) and, with the agent's view, what the images use. */
export function budgetText(settings: ImagesView['effective'], locked: readonly string[], usage: ImagesView['usage'] | null): string {
  const lock = (field: string) => (locked.some((l) => l === `images.${field}` || l === 'images') ? ' (set by your administrator)' : '');
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `Budget:                              ${settings.budgetGiB} GiB${lock('budgetGiB')}`,
    `Keep free on the engine's disk:      ${settings.minFreeGiB} GiB${lock('minFreeGiB')}`,
    `Download while you use the computer: ${yes(settings.pullWhileOwnerActive)}${lock('pullWhileOwnerActive')}`,
    `Pre-pull images the market wants:    ${yes(settings.prePull)}${lock('prePull')}`,
    `Registry mirror:                     ${settings.registryMirror ?? 'none'}${lock('registryMirror')}`,
  ];
  if (usage) lines.push('', usageSummary(usage), availableSummary(usage));
  return lines.join('\n') + '\n';
}
