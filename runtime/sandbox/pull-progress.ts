/**
 * An image pull's progress, summed over its layers from the engine's per-layer events
 * ("Pulling fs layer", "Downloading" with bytes, "Download complete", "Pull complete",
 * "Already exists"). Pure: fed the events, it says how far the whole pull is.
 */
export interface PullEvent {
  /** The layer (absent on whole-pull lines such as "Digest: …"). */
  id?: string;
  status: string;
  current: number | null;
  total: number | null;
}

export interface PullSummary {
  layers: number;
  doneLayers: number;
  downloadedBytes: number;
  /** Known once every layer has said its size; null before. */
  totalBytes: number | null;
  /** 0…1 by bytes when sizes are known, else by layers done; null before any layer is known. */
  fraction: number | null;
  /** e.g. "Pulling the image: 45% (12.0 of 26.6 MB, 1 of 3 layers done)". */
  detail: string;
}

interface Layer {
  current: number;
  total: number | null;
  done: boolean;
}

const DONE = /^(Download complete|Pull complete|Already exists|Verifying Checksum)$/;

export class PullProgress {
  private readonly layers = new Map<string, Layer>();

  update(event: PullEvent): PullSummary | null {
    if (!event.id || !/^[0-9a-f]{6,}$/.test(event.id)) return null;
    const layer = this.layers.get(event.id) ?? { current: 0, total: null, done: false };
    if (event.status === 'Downloading') {
      if (event.total !== null && event.total > 0) layer.total = event.total;
      if (event.current !== null) layer.current = Math.max(layer.current, event.current);
    } else if (DONE.test(event.status)) {
      layer.done = true;
      if (layer.total !== null) layer.current = layer.total;
    }
    this.layers.set(event.id, layer);
    return this.summary();
  }

  summary(): PullSummary {
    const all = [...this.layers.values()];
    const doneLayers = all.filter((l) => l.done).length;
    const downloadedBytes = all.reduce((sum, l) => sum + l.current, 0);
    const sized = all.filter((l) => !l.done);
    const totalKnown = sized.every((l) => l.total !== null);
    const totalBytes = totalKnown ? all.reduce((sum, l) => sum + (l.total ?? l.current), 0) : null;
    let fraction: number | null = null;
    if (all.length > 0) {
      fraction = doneLayers === all.length ? 1 : totalBytes ? Math.min(1, downloadedBytes / totalBytes) : doneLayers / all.length;
    }
    const pct = fraction === null ? '' : ` ${Math.floor(fraction * 100)}%`;
    const bytes = totalBytes ? ` (${mb(downloadedBytes)} of ${mb(totalBytes)} MB,` : ' (';
    return {
      layers: all.length,
      doneLayers,
      downloadedBytes,
      totalBytes,
      fraction,
      detail: `Pulling the image:${pct}${bytes} ${doneLayers} of ${all.length} layer${all.length === 1 ? '' : 's'} done)`,
    };
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
