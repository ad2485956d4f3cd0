/**
 * The Images page: the images Offshift pulled for jobs, on the engine's disk against the budget
 * and the floor kept free; downloads in progress; pinning; removing unused images; the budget
 * settings. Fed by images.list, polled every few seconds while the page is visible, and by
 * `job.progress` for the downloads between polls.
 */
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { ImagePatch, ImageRecord, ImagesView } from '../../../runtime/images/schema.js';
import type { JobProgressEvent } from '../../../runtime/jobs/schema.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Icon } from '../components/icons.js';
import { formatDisk, shortRepository, withLiveProgress } from '../lib/images.js';
import { formatSince } from '../lib/format.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import { ImagesDiskBar } from './ImagesDiskBar.js';
import { ImagesPrune } from './ImagesPrune.js';
import { ImagesPulls } from './ImagesPulls.js';
import { ImagesSettings } from './ImagesSettings.js';
import { ImagesTable } from './ImagesTable.js';
import './images.css';

const client = () => startSession().client;
/** How often the page asks again while it is visible: sizes, pulls and what jobs use change as jobs run. */
const POLL_MS = 3000;

/** The agent's message, and for an agent without the command, what to do about it. */
function describe(error: unknown): string {
  if (error instanceof ApiError && error.code === 'unknown-command') return `${error.message} The agent is older than this dashboard: update Offshift and restart the agent.`;
  return error instanceof Error ? error.message : String(error);
}

const TRIGGER: Record<string, string> = {
  watermark: 'the images passed the budget’s high mark',
  manual: 'you asked',
  fit: 'to make room for a download',
  budget: 'the budget was lowered',
};

/** The navigation icon: stacked layers. */
export function ImagesIcon() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M12 3l9 5-9 5-9-5z" />
      <path d="M3 13l9 5 9-5" />
      <path d="M3 17.5l9 5 9-5" />
    </svg>
  );
}

export function ImagesPage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [view, setView] = useState<ImagesView | null>(null);
  const [error, setError] = useState<{ title: string; text: string } | null>(null);
  const [live, setLive] = useState<Record<string, JobProgressEvent>>({});
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      setView(await client().call('images.list', {}));
      setError((e) => (e?.title === "Could not read Offshift's images" ? null : e));
    } catch (e) {
      setError({ title: "Could not read Offshift's images", text: describe(e) });
    }
  }, []);

  useEffect(() => {
    if (!connected) return;
    void load();
    const visible = () => document.visibilityState === 'visible';
    const timer = setInterval(() => {
      setNow(Date.now());
      if (visible()) void load();
    }, POLL_MS);
    const onVisible = () => visible() && void load();
    document.addEventListener('visibilitychange', onVisible);
    const off = client().on('job.progress', (p) => setLive((all) => ({ ...all, [p.id]: p })));
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      off();
    };
  }, [connected, load]);

  const pin = useCallback(async (image: ImageRecord, pinned: boolean) => {
    try {
      const updated = await client().call('images.pin', { ref: image.ref, pinned });
      setView((v) => (v ? { ...v, images: v.images.map((i) => (i.digest === updated.digest ? updated : i)) } : v));
      setError(null);
    } catch (e) {
      setError({ title: `Could not ${pinned ? 'pin' : 'unpin'} ${shortRepository(image.repository)}`, text: `${describe(e)} Try again; the table shows what the agent holds now.` });
      void load();
    }
  }, [load]);

  const prune = useCallback(async () => {
    try {
      // A manual prune removes every image no job uses that is not pinned (`all` would take pinned ones too).
      const result = await client().call('images.prune', { all: false });
      setError(null);
      void load();
      return result;
    } catch (e) {
      setError({ title: 'Could not remove the unused images', text: `${describe(e)} Nothing was lost: try again once that is fixed.` });
      throw e;
    }
  }, [load]);

  const save = useCallback(async (patch: ImagePatch) => {
    const next = await client().call('images.settings', patch);
    setView(next);
    return next;
  }, []);

  if (!view) {
    return (
      <div className="page images-page">
        {error ? <ErrorBanner title={error.title} text={error.text} testId="images-error" /> : <div className="card skeleton">Asking the agent about its images…</div>}
      </div>
    );
  }
  const pulls = withLiveProgress(view.pulls, live);
  return (
    <div className="page images-page" data-testid="images-page">
      {view.problem ? (
        <div className="banner banner-warn" role="status" data-testid="images-problem">
          <Icon name="warn" />
          <div className="banner-text">
            <strong>Offshift cannot manage its images now</strong>
            <span>
              {view.problem} Jobs that need a download wait until this is fixed; this page follows by itself. The <a href="#/system">System check</a> says more.
            </span>
          </div>
        </div>
      ) : null}
      {error ? <ErrorBanner title={error.title} text={error.text} testId="images-error" /> : null}
      <ImagesDiskBar view={view} />
      <ImagesPulls pulls={pulls} now={now} />
      <section className="card images-list" data-testid="images-list">
        <div className="toolbar">
          <h3>
            Images Offshift pulled <span className="muted small">{view.images.length ? `${view.images.length}, ${formatDisk(view.usage.usedBytes)} on disk` : ''}</span>
          </h3>
          <ImagesPrune images={view.images} prune={prune} />
        </div>
        {view.images.length === 0 ? (
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
        ) : (
          <ImagesTable images={view.images} pulling={new Set(pulls.map((p) => p.ref))} now={now} onPin={pin} />
        )}
        {view.lastPrune && view.lastPrune.removed.length > 0 ? (
          <p className="muted small" data-testid="images-last-prune">
            Last removal {formatSince(new Date(view.lastPrune.at).toISOString(), now)} ({TRIGGER[view.lastPrune.trigger] ?? view.lastPrune.trigger}): {view.lastPrune.removed.length} image
            {view.lastPrune.removed.length === 1 ? '' : 's'}, {formatDisk(view.lastPrune.freedBytes)} freed.
          </p>
        ) : null}
      </section>
      <ImagesSettings view={view} save={save} />
    </div>
  );
}
