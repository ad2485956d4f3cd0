/**
 * The Images page's "Remove unused images": a confirmation that says what goes and how much it
 * frees, then `images.prune` (pinned images stay), then what it did. The agent decides what is unused at
 * that moment; the page's count is what it knew a few seconds ago, and the result says what was.
 */
import { useState } from 'react';
import type { ImageRecord, PruneResult } from '../../../runtime/images/schema.js';
import { formatDisk, shortRepository, unusedImages } from '../lib/images.js';

export function ImagesPrune({ images, prune }: { images: readonly ImageRecord[]; prune: () => Promise<PruneResult> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const unused = unusedImages(images);
  const kept = images.length - unused.images.length;

  const run = async () => {
    setBusy(true);
    try {
      const r = await prune();
      setDone(
        r.removed.length === 0
          ? 'Nothing was removed: every image is pinned or used by a job.'
          : `Removed ${r.removed.length} image${r.removed.length === 1 ? '' : 's'}, ${formatDisk(r.freedBytes)} freed.`,
      );
      setAsking(false);
    } catch {
      // The page's error banner says why (the caller shows it); the confirmation stays open to retry.
    } finally {
      setBusy(false);
    }
  };

  return (
    // `display: contents`: the button sits in the card's toolbar, the confirmation on a row of its own below it.
    <div className="images-prune" data-testid="images-prune">
      <span className="images-prune-actions">
        {done ? (
          <span className="muted small" role="status" data-testid="images-prune-done">
            {done}
          </span>
        ) : null}
        <button type="button" className="button" disabled={busy || asking || unused.images.length === 0} onClick={() => (setAsking(true), setDone(null))} data-testid="images-prune-open" title={unused.images.length === 0 ? 'Every image is pinned or used by a job' : undefined}>
          Remove unused images
        </button>
      </span>
      {asking ? (
        <div className="images-confirm" role="alertdialog" aria-label="Remove unused images" data-testid="images-prune-confirm">
          <p>
            <strong>
              Remove {unused.images.length} unused image{unused.images.length === 1 ? '' : 's'} and free {formatDisk(unused.bytes)}?
            </strong>{' '}
            {confirmText(unused.images.length, kept, unused.warm)}
          </p>
          <ul className="images-confirm-list small">
            {unused.images.map((i) => (
              <li key={i.digest}>
                {shortRepository(i.repository)} <span className="muted">{formatDisk(i.sizeBytes)}</span>
              </li>
            ))}
          </ul>
          <div className="images-actions">
            <button type="button" className="button button-primary" disabled={busy} onClick={() => void run()} data-testid="images-prune-confirm-button">
              {busy ? 'Removing…' : `Remove ${unused.images.length} image${unused.images.length === 1 ? '' : 's'}`}
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

/** What stays, what a removal costs later, and what it costs on the market. */
function confirmText(count: number, kept: number, warm: number): string {
  const stays = kept === 0 ? '' : kept === 1 ? '1 image stays: it is pinned or a job uses it. ' : `${kept} images stay: they are pinned or a job uses them. `;
  const later = count === 1 ? 'A job that needs it again downloads it first.' : 'A job that needs one again downloads it first.';
  const which = warm === count ? (count === 1 ? 'It is' : 'They are') : `${warm} of them ${warm === 1 ? 'is' : 'are'}`;
  const market = warm === 0 ? '' : ` ${which} warm: the market sends jobs for ${warm === 1 ? 'it' : 'them'} here first, as no download is needed; after this it would not.`;
  return stays + later + market;
}
