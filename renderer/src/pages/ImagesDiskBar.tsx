/** The Images page's bar of the engine's disk: who uses it, what Offshift may still pull, the floor kept free and the budget. */
import type { ImagesView } from '../../../runtime/images/schema.js';
import { availableLine, diskBar, formatDisk, formatRate } from '../lib/images.js';

const pct = (f: number) => `${(f * 100).toFixed(3)}%`;

export function ImagesDiskBar({ view }: { view: ImagesView }) {
  const u = view.usage;
  const bar = diskBar(u);
  return (
    <section className="card images-disk" data-testid="images-disk">
      <div className="images-disk-head">
        <h3>{bar.diskKnown ? "The engine's disk" : "Offshift's budget"}</h3>
        <span className="muted small" data-testid="images-disk-summary">
          Offshift&apos;s images: <strong>{formatDisk(u.usedBytes)}</strong> of {formatDisk(u.budgetBytes)} budget
          {u.freeDiskBytes !== null ? ` · ${formatDisk(u.freeDiskBytes)} free of ${formatDisk(bar.totalBytes)}` : " · the engine's disk cannot be read from here"}
        </span>
      </div>
      <div className="images-bar-wrap">
        <div className="images-bar" role="img" aria-label={bar.segments.map((s) => `${s.label} ${formatDisk(s.bytes)}`).join(', ')} data-testid="images-bar" data-disk-known={bar.diskKnown}>
          {bar.segments.map((s) => (
            <div key={s.kind} className={`images-seg seg-${s.kind}`} style={{ width: pct(s.fraction) }} title={`${s.label}: ${formatDisk(s.bytes)}`} data-testid={`images-bar-${s.kind}`} data-bytes={s.bytes} />
          ))}
        </div>
        {bar.markers.map((m) => (
          <div key={m.kind} className={`images-marker marker-${m.kind}${m.at > 0.8 ? ' marker-left' : ''}`} style={{ left: pct(m.at) }} data-testid={`images-marker-${m.kind}`} data-at={m.at.toFixed(4)}>
            <span className="images-marker-label">{m.label}</span>
          </div>
        ))}
      </div>
      <ul className="images-legend">
        {bar.segments.map((s) => (
          <li key={s.kind}>
            <span className={`images-swatch seg-${s.kind}`} aria-hidden="true" />
            {s.label} <strong>{formatDisk(s.bytes)}</strong>
          </li>
        ))}
      </ul>
      <p className="images-available" data-testid="images-available">
        {availableLine(u)}
      </p>
      {view.downloadBytesPerSecond ? (
        <p className="muted small" data-testid="images-rate">
          Downloads have run at about {formatRate(view.downloadBytesPerSecond)} lately: a job that needs a new image waits for its download before it starts.
        </p>
      ) : null}
    </section>
  );
}
