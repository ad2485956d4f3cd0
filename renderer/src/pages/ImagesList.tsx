/** The Images page's list of the images Offshift pulled: the table (or why it is empty), Remove unused, and the last removal. */
import type { ImageRecord, ImagesView, PruneResult } from '../../../runtime/images/schema.js';
import { formatSince } from '../lib/format.js';
import { formatDisk } from '../lib/images.js';
import { ImagesIcon } from './ImagesIcon.js';
import { ImagesPrune } from './ImagesPrune.js';
import { ImagesTable } from './ImagesTable.js';

const TRIGGER: Record<string, string> = {
  watermark: 'the images passed the budget’s high mark',
  manual: 'you asked',
  fit: 'to make room for a download',
  budget: 'the budget was lowered',
};

function ImagesEmpty({ view }: { view: ImagesView }) {
  return (
    <div className="empty-state" data-testid="images-empty">
      <ImagesIcon />
      <h2>No images yet</h2>
      <p className="muted">
        Offshift keeps here the images that jobs pull, within the budget below ({formatDisk(view.usage.budgetBytes)}), so that the next job for the same image starts
        without a download. Past the budget it removes the least recently used ones, and it never takes the engine&apos;s disk below the{' '}
        {formatDisk(view.usage.minFreeBytes)} kept free.
      </p>
      <p className="muted">It never touches your own Docker images: only the ones it pulled are listed, counted and removed.</p>
    </div>
  );
}

export function ImagesList({
  view,
  pulling,
  now,
  pin,
  prune,
}: {
  view: ImagesView;
  pulling: ReadonlySet<string>;
  now: number;
  pin: (image: ImageRecord, pinned: boolean) => Promise<void>;
  prune: () => Promise<PruneResult>;
}) {
  return (
    <section className="card images-list" data-testid="images-list">
      <div className="toolbar">
        <h3>
          Images Offshift pulled <span className="muted small">{view.images.length ? `${view.images.length}, ${formatDisk(view.usage.usedBytes)} on disk` : ''}</span>
        </h3>
        <ImagesPrune images={view.images} prune={prune} />
      </div>
      {view.images.length === 0 ? <ImagesEmpty view={view} /> : <ImagesTable images={view.images} pulling={pulling} now={now} onPin={pin} />}
      {view.lastPrune && view.lastPrune.removed.length > 0 ? (
        <p className="muted small" data-testid="images-last-prune">
          Last removal {formatSince(new Date(view.lastPrune.at).toISOString(), now)} ({TRIGGER[view.lastPrune.trigger] ?? view.lastPrune.trigger}): {view.lastPrune.removed.length} image
          {view.lastPrune.removed.length === 1 ? '' : 's'}, {formatDisk(view.lastPrune.freedBytes)} freed.
        </p>
      ) : null}
    </section>
  );
}
