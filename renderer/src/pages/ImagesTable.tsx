/** The Images page's table: each image Offshift pulled, its sizes and use, and a pin toggle. */
import { useState } from 'react';
import type { ImageRecord } from '../../../runtime/images/schema.js';
import { formatNumber } from '../lib/format.js';
import { formatDisk, lastUsedText, shortDigest, shortRepository } from '../lib/images.js';

export function ImagesTable({ images, pulling, now, onPin }: { images: readonly ImageRecord[]; pulling: ReadonlySet<string>; now: number; onPin: (image: ImageRecord, pinned: boolean) => Promise<void> }) {
  // Most recently used first: the ones a prune would take last are on top.
  const sorted = [...images].sort((a, b) => (b.lastUsedAt ?? b.pulledAt ?? 0) - (a.lastUsedAt ?? a.pulledAt ?? 0));
  return (
    <table className="images-table" data-testid="images-table">
      <thead>
        <tr>
          <th>Image</th>
          <th className="num" title="What it takes on the engine's disk">
            On disk
          </th>
          <th className="num" title="What its download weighs (the registry's compressed layers)">
            Download
          </th>
          <th>Last used</th>
          <th className="num">Jobs run</th>
          <th title="A pinned image is never removed to make room">Pinned</th>
          <th title="A running or queued job uses it: it cannot be removed now">In use</th>
          <th title="Advertised to the market as held: a job for it starts without a download">Warm</th>
          <th title="Pulled ahead of any job because the market said it was in demand">Pre-pulled</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((image) => (
          <ImageRow key={image.digest} image={image} pulling={pulling.has(image.ref)} now={now} onPin={onPin} />
        ))}
      </tbody>
    </table>
  );
}

function ImageRow({ image, pulling, now, onPin }: { image: ImageRecord; pulling: boolean; now: number; onPin: (image: ImageRecord, pinned: boolean) => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await onPin(image, !image.pinned);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="image-row" data-digest={image.digest}>
      <td>
        <div className="images-repo" title={image.ref}>
          {shortRepository(image.repository)}
        </div>
        <CopyDigest digest={image.digest} />
        {image.imageId === null ? (
          pulling ? (
            <div className="tone-info small">Downloading now (see above).</div>
          ) : (
            <div className="tone-warn small">Download interrupted: the next job that needs it fetches the rest.</div>
          )
        ) : null}
      </td>
      <td className="num" data-testid="image-size">
        {image.imageId === null ? '—' : formatDisk(image.sizeBytes)}
      </td>
      <td className="num muted">{image.compressedBytes === null ? '—' : formatDisk(image.compressedBytes)}</td>
      <td className="muted" title={image.lastUsedAt === null ? undefined : new Date(image.lastUsedAt).toLocaleString()}>
        {lastUsedText(image.lastUsedAt, now)}
      </td>
      <td className="num">{formatNumber(image.jobsRun)}</td>
      <td>
        <button
          type="button"
          role="switch"
          aria-checked={image.pinned}
          aria-label={`Pin ${shortRepository(image.repository)}`}
          className={`images-switch${image.pinned ? ' on' : ''}`}
          disabled={busy}
          onClick={() => void toggle()}
          title={image.pinned ? 'Pinned: never removed to make room. Click to unpin.' : 'Pin it so that it is never removed to make room.'}
          data-testid="image-pin"
        >
          <span className="images-switch-knob" />
        </button>
      </td>
      <td>{flag(image.inUse, 'in use', 'A running or queued job uses it')}</td>
      <td>{flag(image.warm, 'warm', 'Advertised to the market: a job for it starts at once')}</td>
      <td>{flag(image.prePulled, 'pre-pulled', 'Pulled ahead because the market wanted it')}</td>
    </tr>
  );
}

function flag(on: boolean, word: string, why: string) {
  return on ? (
    <span className={`pill images-pill-${word.replace(/\W/g, '')}`} title={why}>
      {word}
    </span>
  ) : (
    <span className="muted">—</span>
  );
}

/** The short digest and a button that copies the whole one (the clipboard can be refused: then the digest is shown selected). */
function CopyDigest({ digest }: { digest: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const copy = () =>
    navigator.clipboard.writeText(digest).then(
      () => {
        setState('copied');
        setTimeout(() => setState('idle'), 1500);
      },
      () => setState('manual'),
    );
  if (state === 'manual') {
    return <input className="images-digest-full mono" readOnly value={digest} autoFocus onFocus={(e) => e.target.select()} onBlur={() => setState('idle')} aria-label="Digest: press Ctrl+C to copy" />;
  }
  return (
    <span className="images-digest">
      <span className="mono muted" title={digest}>
        {shortDigest(digest)}
      </span>
      <button type="button" className="images-copy" onClick={() => void (navigator.clipboard ? copy() : setState('manual'))} title="Copy the whole digest" data-testid="image-copy">
        {state === 'copied' ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
