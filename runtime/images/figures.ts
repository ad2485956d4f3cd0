/**
 * How an image's sizes and a pull's progress are put in words, pure and import-free: the CLI, the
 * dashboard (through images/schema.ts) and the agent's own pull lines say the same. What lies on
 * the disk is in binary units (GiB, as the budget is set), what comes over the network in decimal
 * ones (GB, MB/s, as registries and `docker pull` count).
 */

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;
const TiB = GiB * 1024;

/** A figure with at most one decimal below 100 (and none on a whole number): 12.3, 64, 310. */
function figure(value: number): string {
  const rounded = value < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return rounded.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** Bytes on disk: "512 MiB", "12.3 GiB", "310 GiB", "1.8 TiB". */
export function formatDisk(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`;
  if (bytes < MiB) return `${Math.round(bytes / KiB)} KiB`;
  if (bytes < GiB) return `${Math.round(bytes / MiB)} MiB`;
  if (bytes < TiB) return `${figure(bytes / GiB)} GiB`;
  return `${(bytes / TiB).toFixed(1)} TiB`;
}

/** Two sizes in the GiB of the budget: "12.3 of 64 GiB". */
export function formatGiBOf(bytes: number, of: number): string {
  return `${figure(bytes / GiB)} of ${figure(of / GiB)} GiB`;
}

/** The decimal unit a download is counted in, chosen by its largest figure. */
function downloadUnit(bytes: number): { unit: string; size: number } {
  if (bytes >= 1e9) return { unit: 'GB', size: 1e9 };
  if (bytes >= 1e6) return { unit: 'MB', size: 1e6 };
  return { unit: 'kB', size: 1e3 };
}

function downloadFigure(bytes: number, size: number): string {
  const v = bytes / size;
  return v < 10 ? (Math.round(v * 10) / 10).toString() : Math.round(v).toString();
}

/** Bytes downloaded: "1.2 GB", "340 MB". */
export function formatDownload(bytes: number): string {
  const { unit, size } = downloadUnit(bytes);
  return `${downloadFigure(bytes, size)} ${unit}`;
}

/** "1.2 of 4.8 GB": both in the unit of the total. */
export function formatOfTotal(bytes: number, total: number): string {
  const { unit, size } = downloadUnit(Math.max(bytes, total));
  return `${downloadFigure(bytes, size)} of ${downloadFigure(total, size)} ${unit}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatDownload(bytesPerSecond)}/s`;
}

/** "about 1 min 35 s left"; under 5 s "a few seconds left". */
export function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 5) return 'a few seconds left';
  if (s < 60) return `about ${s} s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `about ${m} min ${s % 60} s left`;
  return `about ${Math.floor(m / 60)} h ${m % 60} min left`;
}

/** "2 min 6 s", "45 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A pull's figures, as `job.progress` and images.list's pulls carry them (an older agent sends only `detail`). */
export interface PullFigures {
  bytes?: number | undefined;
  totalBytes?: number | null | undefined;
  bytesPerSecond?: number | null | undefined;
  etaSeconds?: number | null | undefined;
  detail?: string | undefined;
}

/** "Pulling the image: 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left", or the agent's detail without figures. */
export function pullLine(p: PullFigures): string {
  if (p.bytes === undefined) return p.detail ?? 'Pulling the image…';
  const parts = [p.totalBytes ? formatOfTotal(p.bytes, p.totalBytes) : `${formatDownload(p.bytes)} so far`];
  if (p.bytesPerSecond) parts.push(formatRate(p.bytesPerSecond));
  if (p.etaSeconds !== null && p.etaSeconds !== undefined) parts.push(formatEta(p.etaSeconds));
  return `Pulling the image: ${parts.join(' · ')}`;
}
